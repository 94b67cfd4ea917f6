"""Parsing documents into chunks in the background: start, stop, run, recover (contract §3.8–§3.9).

State lives in the document row. Every start bumps `parse_generation`; the Celery task carries
the generation it was queued for and quits as soon as the row says otherwise (cancelled,
re-parsed, deleted). New chunks replace old ones in one transaction at the end, under a row
lock, so readers never see a half-written document and a cancelled parse writes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import xxhash
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import close_old_connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from knowledge import embeddings
from knowledge.enrichment.chat_model import chat_model_problem, resolve_chat_model
from knowledge.enrichment.keywords import enrich_parsed_document
from knowledge.enrichment.session import EnrichmentError, LLMSession
from knowledge.enrichment.toc import toc_from_model
from knowledge.models import Chunk, Dataset, Document
from knowledge.parsing import ChunkDraft, ParseCancelled, ParseError, parse_document
from knowledge.parsing.convert import OfficeConverter
from knowledge.parsing.text import searchable_text
from knowledge.parsing.toc import build_toc
from knowledge.services import chunk_store
from ragsite.api.errors import AuthenticationError, DataError
from ragsite.api.exceptions import public_message
from ragsite.celery import BROKER_ERRORS, waiting_task_ids
from ragsite.ids import split_duplicates

logger = logging.getLogger(__name__)

Run = Document.Run
# The worker writes a heartbeat this often while it works on a document.
HEARTBEAT_SECONDS = 5.0
# How often progress is written to the row (and cancellation checked) at most.
PROGRESS_WRITE_SECONDS = 0.5
MAX_ATTEMPTS = 3


def chunk_id(content: str, document_id: str) -> str:
    """RAGFlow's chunk id: xxhash64 of content + document id, 16 hex characters."""
    return xxhash.xxh64((content + document_id).encode("utf-8")).hexdigest()


def _stamp(message: str) -> str:
    return f"{timezone.localtime():%H:%M:%S} {message}"


# Written to a queued document's log when its task could not be handed to the broker.
WAITING_NOTE = "The task queue is unreachable; parsing starts when it is back."


def task_id(document_id: str, generation: int) -> str:
    """The Celery task id of one parse: recovery looks for it among the broker's messages."""
    return f"parse-{document_id}-{generation}"


class _Dispatcher:
    """Hands one batch of queued parses to the broker, one document per on-commit callback.

    The parse is already queued in the database, so a broker that is down loses nothing: the
    document stays queued, its log says so, and recovery sends it when the broker is back.
    After one failure the rest of the batch is not tried, since each try would wait out the
    publish retry policy again.
    """

    def __init__(self, waiting: list[str]) -> None:
        self.waiting = waiting  # ids left in the database for recovery
        self.broker_down = False

    def __call__(self, document_id: str, generation: int) -> None:
        from knowledge.tasks import parse_document_task

        if not self.broker_down:
            try:
                parse_document_task.apply_async(
                    (document_id, generation), task_id=task_id(document_id, generation)
                )
                return
            except BROKER_ERRORS:
                self.broker_down = True
                logger.warning(
                    "the task queue is unreachable; queued parses wait in the database",
                    exc_info=True,
                )
        Document.objects.filter(
            pk=document_id, run=Run.RUNNING, parse_generation=generation, heartbeat_at__isnull=True
        ).update(progress_msg=Concat(F("progress_msg"), Value("\n" + _stamp(WAITING_NOTE))))
        self.waiting.append(document_id)


@dataclass
class BatchOutcome:
    success_count: int
    not_found: list[str]
    duplicates: list[str]
    # Queued in the database but not yet handed to the broker (it was unreachable).
    waiting: list[str] = field(default_factory=list)
    # parse_stop(skip_idle=True): documents that were not parsing, left as they were.
    idle: list[str] = field(default_factory=list)


def parse_start(
    *, dataset: Dataset, document_ids: Sequence[str], restart_running: bool = False
) -> BatchOutcome:
    """Queue documents for parsing; DONE, FAIL and CANCEL documents may be parsed again.

    Queued means RUNNING at progress 0 in the database. The broker gets the tasks after the
    commit; if it is down they wait in the database (`outcome.waiting`) and recovery sends them
    once it is back, so the request still succeeds and the documents can still be cancelled.
    A document being parsed is refused, unless `restart_running` (RAGFlow v0.27's
    `/documents/parse`): then its running task turns stale and a new one starts.
    """
    unique, duplicates = split_duplicates(document_ids)
    queued = 0
    waiting: list[str] = []
    dispatch = _Dispatcher(waiting)
    with transaction.atomic():
        documents = {
            d.pk: d
            for d in Document.objects.select_for_update().filter(dataset=dataset, pk__in=unique)
        }
        for doc_id in unique:
            document = documents.get(doc_id)
            if document is None:
                continue
            if 0 < document.progress < 1 and not restart_running:
                raise DataError("Can't parse document that is currently being processed")
            chunk_store.delete_chunks(document)
            document.run = Run.RUNNING
            document.progress = 0.0
            document.progress_msg = _stamp("Task has been received.")
            document.process_begin_at = timezone.now()
            document.process_duration = 0.0
            document.parse_generation += 1
            document.parse_attempts = 0
            document.heartbeat_at = None
            document.save()
            # Only after commit: a worker racing the commit would read the old row.
            transaction.on_commit(partial(dispatch, document.pk, document.parse_generation))
            queued += 1
    missing = [doc_id for doc_id in unique if doc_id not in documents]
    return BatchOutcome(queued, missing, duplicates, waiting)


def parse_stop(
    *, dataset: Dataset, document_ids: Sequence[str], skip_idle: bool = False
) -> BatchOutcome:
    """Cancel parsing: the row says CANCEL at once and the worker drops its work.

    By default the first document that is unknown or not parsing refuses the whole request.
    With `skip_idle` (RAGFlow v0.27's `/documents/stop`), unknown ids still stop nothing, but
    documents that are not parsing are only reported (`outcome.idle`).
    """
    unique, duplicates = split_duplicates(document_ids)
    stopped = 0
    idle: list[str] = []
    with transaction.atomic():
        if skip_idle:
            found = set(
                Document.objects.filter(dataset=dataset, pk__in=unique).values_list("pk", flat=True)
            )
            missing = [doc_id for doc_id in unique if doc_id not in found]
            if missing:
                raise DataError(f"Documents not found: {missing!r}")
        for doc_id in unique:
            document = (
                Document.objects.select_for_update().filter(dataset=dataset, pk=doc_id).first()
            )
            if document is None:
                raise DataError(f"You don't own the document {doc_id}.")
            # A queued document (RUNNING at progress 0) can be stopped too; RAGFlow refuses it,
            # which leaves no way to take back a mistaken parse request.
            was_idle = document.progress == 0 and document.run != Run.RUNNING
            if was_idle or int(document.progress) == 1:
                if skip_idle:
                    idle.append(doc_id)
                    continue
                raise DataError("Can't stop parsing document with progress at 0 or 1")
            chunk_store.delete_chunks(document)
            document.run = Run.CANCEL
            document.progress = 0.0
            document.progress_msg = (
                document.progress_msg + "\n" + _stamp("Cancelled by the user.")
            ).strip()
            document.heartbeat_at = None
            document.save()
            stopped += 1
    return BatchOutcome(stopped, [], duplicates, idle=idle)


# --- the worker side ------------------------------------------------------------------------


class _Stale(Exception):
    """The document was cancelled, re-parsed or deleted while this task worked on it."""


class _ParseRun:
    """One task's attempt at one document generation."""

    def __init__(self, document: Document) -> None:
        self.document_id = document.pk
        self.generation = document.parse_generation
        self.log: list[str] = [document.progress_msg] if document.progress_msg else []
        self._last_write = 0.0
        self._stop = threading.Event()

    def _mine(self) -> Document:
        document = Document.objects.filter(pk=self.document_id).first()
        if (
            document is None
            or document.run != Run.RUNNING
            or document.parse_generation != self.generation
        ):
            raise _Stale
        return document

    def report(self, progress: float, message: str | None = None, *, force: bool = False) -> None:
        """Write progress (and a log line) if enough time passed; quit if the row moved on."""
        if message:
            self.log.append(_stamp(message))
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_WRITE_SECONDS:
            return
        self._last_write = now
        updated = Document.objects.filter(
            pk=self.document_id, run=Run.RUNNING, parse_generation=self.generation
        ).update(
            progress=round(min(max(progress, 0.0), 0.99), 4),
            progress_msg="\n".join(self.log),
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise _Stale

    def cancelled(self) -> bool:
        try:
            self._mine()
        except _Stale:
            return True
        return False

    def heartbeat_forever(self) -> None:
        """Keep the heartbeat fresh during long steps (OCR, big batches) from a side thread."""
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                Document.objects.filter(
                    pk=self.document_id, run=Run.RUNNING, parse_generation=self.generation
                ).update(heartbeat_at=timezone.now())
            except Exception:  # noqa: BLE001 - a missed heartbeat is harmless; the next one retries
                logger.warning("heartbeat failed for %s", self.document_id, exc_info=True)
            finally:
                close_old_connections()

    def stop_heartbeat(self) -> None:
        self._stop.set()


def office_converter() -> OfficeConverter:
    """LibreOffice as the settings name it, for legacy formats and Office previews."""
    return OfficeConverter(
        binary=settings.RAGSITE_SOFFICE, timeout=float(settings.RAGSITE_OFFICE_TIMEOUT_SECONDS)
    )


def _embedding_inputs(drafts: Sequence[ChunkDraft]) -> list[str]:
    return ["\n".join(d.questions) if d.questions else searchable_text(d.content) for d in drafts]


def run_parse(document_id: str, generation: int) -> str:
    """The Celery task body: parse, embed and index one document generation."""
    document = Document.objects.select_related("dataset").filter(pk=document_id).first()
    if document is None or document.run != Run.RUNNING or document.parse_generation != generation:
        return "stale"
    Document.objects.filter(pk=document_id).update(
        heartbeat_at=timezone.now(), parse_attempts=F("parse_attempts") + 1
    )
    run = _ParseRun(document)
    beat = threading.Thread(target=run.heartbeat_forever, daemon=True)
    beat.start()
    started = time.monotonic()
    try:
        return _parse_and_index(run, document, started)
    except _Stale:
        return "stale"
    except ParseCancelled:
        return "cancelled"
    except (ParseError, embeddings.EmbeddingError, EnrichmentError) as exc:
        _fail(run, getattr(exc, "message", None) or str(exc), started)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - the document must end FAIL, never stay RUNNING
        _fail(run, f"Internal error while parsing: {public_message(exc)}", started)
        return "failed"
    finally:
        run.stop_heartbeat()


def _parse_and_index(run: _ParseRun, document: Document, started: float) -> str:
    dataset = document.dataset
    run.report(0.01, "Start to parse.", force=True)
    if not document.location or not default_storage.exists(document.location):
        raise ParseError("The stored file is missing; upload the document again.")
    with default_storage.open(document.location, "rb") as handle:
        data = handle.read()
    run.report(0.05, f"Read {len(data)} bytes.")

    result = parse_document(
        data=data,
        filename=document.name,
        chunk_method=document.chunk_method,
        parser_config=document.parser_config or {},
        progress=lambda fraction, message: run.report(0.05 + 0.35 * fraction, message),
        should_stop=run.cancelled,
        office=office_converter(),
    )
    for note in result.notes:
        run.log.append(_stamp(note))
    drafts = _unique_drafts(result.chunks, document.pk)
    run.report(0.4, f"Chunking done: {len(drafts)} chunks from {result.pages} page(s).", force=True)

    # Auto keywords and questions (0.4 -> 0.6 when the chat model is asked).
    asked = enrich_parsed_document(
        dataset,
        document.parser_config or {},
        drafts,
        [chunk_id(d.content, document.pk) for d in drafts],
        log=lambda line: run.log.append(_stamp(line)),
        # Each batch waits on the chat model: look for a cancel after every one of them.
        progress=lambda done, total: run.report(
            0.4 + 0.2 * done / total, f"Keywords and questions {done}/{total} chunks.", force=True
        ),
    )
    toc = _table_of_contents(run, document, result.headings, drafts)
    start = 0.6 if asked else 0.4
    title_weight = document.parser_config.get("filename_embd_weight", 0.1)
    title_weight = 0.1 if title_weight is None else float(title_weight)
    vectors = embeddings.embed_chunks(
        dataset.embedding_model,
        document.name,
        _embedding_inputs(drafts),
        title_weight=title_weight,
        progress=lambda done, total: run.report(
            start + (0.9 - start) * done / total, f"Embedding {done}/{total}."
        ),
    )
    run.report(0.92, "Indexing.", force=True)
    _index(run, drafts, vectors, started, metadata=result.metadata, toc=toc)
    return "done"


def _table_of_contents(
    run: _ParseRun,
    document: Document,
    headings: Sequence[tuple[int, str]],
    drafts: Sequence[ChunkDraft],
) -> list[dict[str, Any]]:
    """parser_config.toc_extraction: the sections of the document's headings; for a document
    without any, those the chat model proposes (a failing model leaves none, said in the log)."""
    if not (document.parser_config or {}).get("toc_extraction"):
        return []
    ids = [chunk_id(d.content, document.pk) for d in drafts]
    contents = [d.content for d in drafts]
    toc = build_toc(headings, contents, ids)
    if toc:
        run.log.append(_stamp(f"Table of contents: {len(toc)} section(s) from the headings."))
        return toc
    # No headings: as RAGFlow, the chat model proposes them.
    problem = chat_model_problem(document.dataset)
    if problem:
        run.log.append(
            _stamp(f"Table of contents: no headings found and no chat model; none built. {problem}")
        )
        return []
    session = LLMSession(resolve_chat_model(document.dataset), document.dataset_id)
    run.log.append(
        _stamp(f"Table of contents: no headings found; asking {session.config.model_id}.")
    )
    try:
        toc = toc_from_model(session, contents, ids)
    except EnrichmentError as exc:
        run.log.append(_stamp(f"Table of contents: none built ({exc.message})"))
        return []
    run.log.append(
        _stamp(
            f"Table of contents: {len(toc)} section(s) from the chat model "
            f"({session.calls_used} calls, {session.tokens_used} tokens)."
        )
    )
    return toc


def _unique_drafts(drafts: Sequence[ChunkDraft], document_id: str) -> list[ChunkDraft]:
    """Identical passages share an id (RAGFlow's xxhash rule), so keep the first of each."""
    seen: set[str] = set()
    unique: list[ChunkDraft] = []
    for draft in drafts:
        key = chunk_id(draft.content, document_id)
        if key not in seen and draft.content.strip():
            seen.add(key)
            unique.append(draft)
    return unique


def _index(
    run: _ParseRun,
    drafts: Sequence[ChunkDraft],
    vectors: np.ndarray,
    started: float,
    *,
    metadata: dict[str, Any] | None = None,
    toc: list[dict[str, Any]] | None = None,
) -> None:
    """Swap the document's chunks for the new ones atomically, if the parse is still wanted.

    Metadata the file declares (front matter) fills the document's `meta_fields` where the
    document has no value of its own: what a person or the API set wins.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=run.document_id).first()
        if (
            document is None
            or document.run != Run.RUNNING
            or document.parse_generation != run.generation
        ):
            raise _Stale
        chunk_store.delete_chunks(document)
        rows = [
            chunk_store.prepare(
                Chunk(
                    id=chunk_id(draft.content, document.pk),
                    dataset_id=document.dataset_id,
                    document=document,
                    ordinal=index,
                    content=draft.content,
                    important_keywords=list(draft.important_keywords),
                    questions=list(draft.questions),
                    available=document.enabled,
                    page_numbers=list(draft.page_numbers),
                    positions=[[round(v) for v in p] for p in draft.positions],
                    token_count=draft.token_count,
                    embedding=vectors[index].tolist(),
                    embedding_dim=int(vectors.shape[1]),
                )
            )
            for index, draft in enumerate(drafts)
        ]
        chunk_store.insert_chunks(document, rows)
        duration = time.monotonic() - started
        run.log.append(
            _stamp(
                f"Task done ({duration:.2f}s): {len(rows)} chunks, {document.token_count} tokens."
            )
        )
        if metadata:
            document.meta_fields = {**metadata, **(document.meta_fields or {})}
        document.toc = toc or []
        document.run = Run.DONE
        document.progress = 1.0
        document.progress_msg = "\n".join(run.log)
        document.process_duration = round(duration, 3)
        document.heartbeat_at = None
        document.save()


def _fail(run: _ParseRun, message: str, started: float) -> None:
    run.log.append(_stamp(f"[ERROR] {message}"))
    Document.objects.filter(
        pk=run.document_id, run=Run.RUNNING, parse_generation=run.generation
    ).update(
        run=Run.FAIL,
        progress=-1.0,
        progress_msg="\n".join(run.log),
        process_duration=round(time.monotonic() - started, 3),
        heartbeat_at=None,
    )


def recover_stale_parses(*, at_startup: bool = False) -> int:
    """Requeue parses no worker is on; fail those whose worker died MAX_ATTEMPTS times.

    Two kinds, both RUNNING:
    - started, with a heartbeat older than RAGSITE_PARSE_STALE_SECONDS: the worker died;
    - never started (no heartbeat), queued at least that long ago (at worker start-up: any
      age), whose task is not waiting in the broker: publishing failed while the broker was
      down, or the broker lost its queue on restart (the embedded Valkey keeps nothing).
    A never-started parse is left alone while the broker can't be read: it could not be sent
    anyway, and the next round finds it. Requeueing bumps the generation, so if the old task
    does arrive later it is recognised as stale.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.RAGSITE_PARSE_STALE_SECONDS)
    running = Document.objects.filter(run=Run.RUNNING)
    candidates = dict(running.filter(heartbeat_at__lt=cutoff).values_list("pk", "parse_generation"))
    never_started = running.filter(heartbeat_at__isnull=True)
    if not at_startup:
        never_started = never_started.filter(
            Q(process_begin_at__lt=cutoff) | Q(process_begin_at__isnull=True)
        )
    queued = dict(never_started.values_list("pk", "parse_generation"))
    if queued:
        waiting = waiting_task_ids()
        if waiting is None:
            logger.warning("the task queue is unreachable; %d parse(s) wait for it", len(queued))
        else:
            candidates.update(
                (pk, gen) for pk, gen in queued.items() if task_id(pk, gen) not in waiting
            )

    dispatch = _Dispatcher([])
    recovered = 0
    for doc_id, generation in candidates.items():
        with transaction.atomic():
            document = (
                Document.objects.select_for_update()
                .filter(pk=doc_id, run=Run.RUNNING, parse_generation=generation)
                .first()
            )
            if document is None:
                continue  # finished, cancelled or parsed again meanwhile
            if document.heartbeat_at is not None and document.heartbeat_at >= cutoff:
                continue  # a worker is on it after all
            if document.parse_attempts >= MAX_ATTEMPTS:
                document.run = Run.FAIL
                document.progress = -1.0
                document.progress_msg += "\n" + _stamp(
                    f"[ERROR] The worker stopped unexpectedly {document.parse_attempts} times "
                    "while parsing this document; giving up. Check the worker's log and memory."
                )
            else:
                note = (
                    "The worker parsing this document stopped unexpectedly; parsing was restarted."
                    if document.heartbeat_at is not None
                    else "Requeued: no worker had taken the parse request "
                    "(the task queue was unreachable or restarted)."
                )
                chunk_store.delete_chunks(document)
                document.progress = 0.0
                document.progress_msg += "\n" + _stamp(note)
                document.parse_generation += 1
                transaction.on_commit(partial(dispatch, document.pk, document.parse_generation))
            document.heartbeat_at = None
            document.save()
            recovered += 1
    return recovered


def documents_ingest(
    *, tenant: Any, document_ids: Sequence[str], run: str, apply_kb: bool = False
) -> None:
    """RAGFlow v0.27's POST /documents/ingest: start (or rerun) parsing with `run` "1", cancel
    with "2", for documents of any of the caller's datasets.

    Every id must be one of the caller's documents (109 `no authorization`, nothing done);
    cancelling a document that is not parsing is 102 and cancels nothing. A rerun replaces the
    document's chunks (RAGFlow's `delete: true`, which ragsite always does). `apply_kb` copies
    the dataset's `llm_id`, `enable_metadata` and `metadata` settings into the document's
    parser config first.
    """
    unique, _duplicates = split_duplicates(document_ids)
    documents = list(
        Document.objects.filter(pk__in=unique, dataset__tenant=tenant).select_related("dataset")
    )
    if len(documents) != len(unique):
        raise AuthenticationError("no authorization")
    by_dataset: dict[str, list[Document]] = {}
    for document in documents:
        by_dataset.setdefault(document.dataset_id, []).append(document)
    with transaction.atomic():
        if run == Run.CANCEL:
            for document in documents:
                if document.run != Run.RUNNING:
                    raise DataError("Cannot cancel a task that is not in RUNNING status")
            for group in by_dataset.values():
                parse_stop(dataset=group[0].dataset, document_ids=[d.pk for d in group])
            return
        for group in by_dataset.values():
            dataset = group[0].dataset
            if apply_kb:
                for document in group:
                    config = dict(document.parser_config)
                    config["llm_id"] = dataset.parser_config.get("llm_id")
                    config["enable_metadata"] = dataset.parser_config.get("enable_metadata", False)
                    config["metadata"] = dataset.parser_config.get("metadata", {})
                    Document.objects.filter(pk=document.pk).update(parser_config=config)
            parse_start(dataset=dataset, document_ids=[d.pk for d in group], restart_running=True)
