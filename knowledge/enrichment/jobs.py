"""Dataset enrichment jobs (RAPTOR, knowledge graph) as Celery work: start, cancel, run, recover.

State lives in the `EnrichmentJob` row, the way parses keep theirs in the document row. Each
(re)queue bumps `generation`; the task carries the generation it was queued for and quits as
soon as the row says otherwise (cancelled, restarted). A worker writes a heartbeat while it
runs; a job whose heartbeat stops is queued again by recovery (beat, and at worker start) and
resumes from its `checkpoint` and from the chat-model answers already kept for the dataset.

A job kind is one runner, `runner(run: JobRun) -> None`, named in RUNNERS: it reads what it
needs through `run`, asks the model through `run.llm`, reports progress with `run.report()`,
records finished work in `run.checkpoint` and `run.save_checkpoint()`, and raises
`EnrichmentError` with a sentence for the user when it cannot go on. WIPERS name, per kind, what
deletes the job's results (DELETE /datasets/{id}/index?type=…).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from knowledge.enrichment.chat_model import NoChatModel, resolve_chat_model
from knowledge.enrichment.session import EnrichmentError, LLMSession
from knowledge.models import Dataset, Document, EnrichmentJob
from ragsite.api.errors import DataError
from ragsite.api.exceptions import public_message
from ragsite.celery import BROKER_ERRORS, waiting_task_ids

logger = logging.getLogger(__name__)

Job = EnrichmentJob
Status = EnrichmentJob.Status

# kind -> "module.function" of its runner, and of what wipes its results.
RUNNERS: dict[str, str] = {
    "raptor": "knowledge.enrichment.raptor.run_raptor_job",
    "graphrag": "knowledge.enrichment.graph.run_graph_job",
}
WIPERS: dict[str, str] = {
    "raptor": "knowledge.enrichment.raptor.wipe_raptor",
    "graphrag": "knowledge.enrichment.graph.wipe_graph",
}
# kind -> the dataset's (task id, finish time) fields, and the name in RAGFlow's messages.
DATASET_FIELDS: dict[str, tuple[str, str]] = {
    "raptor": ("raptor_task_id", "raptor_task_finish_at"),
    "graphrag": ("graphrag_task_id", "graphrag_task_finish_at"),
}
TITLES = {"raptor": "RAPTOR", "graphrag": "Graph"}

HEARTBEAT_SECONDS = 5.0
PROGRESS_WRITE_SECONDS = 0.5
MAX_ATTEMPTS = 3
WAITING_NOTE = "The task queue is unreachable; the job starts when it is back."


def stamp(message: str) -> str:
    return f"{timezone.localtime():%H:%M:%S} {message}"


def task_id(job_id: str, generation: int) -> str:
    """The Celery task id of one (re)queue of a job: recovery looks for it in the broker."""
    return f"enrich-{job_id}-{generation}"


def _dispatch(job_id: str, generation: int) -> None:
    from knowledge.tasks import run_enrichment_job_task

    try:
        run_enrichment_job_task.apply_async(
            (job_id, generation), task_id=task_id(job_id, generation)
        )
    except BROKER_ERRORS:
        logger.warning("the task queue is unreachable; job %s waits in the database", job_id)
        job = Job.objects.filter(pk=job_id, generation=generation).first()
        if job is not None:
            Job.objects.filter(pk=job_id, generation=generation).update(
                progress_msg=f"{job.progress_msg}\n{stamp(WAITING_NOTE)}".strip()
            )


# --- reads ------------------------------------------------------------------------------------


def job_latest(dataset: Dataset, kind: str) -> Job | None:
    """The dataset's current job of `kind` (the one its task id points to), if any."""
    job_id = getattr(dataset, DATASET_FIELDS[kind][0], "")
    return Job.objects.filter(pk=job_id, dataset=dataset).first() if job_id else None


# --- writes -----------------------------------------------------------------------------------


def job_start(*, dataset: Dataset, kind: str) -> Job:
    """Queue a `kind` job over the dataset's enabled documents (RAGFlow's run_raptor/run_graphrag).

    DataError when a job of that kind is still running, when the dataset has no enabled
    document, or when no chat model is configured (the message says what to configure).
    """
    id_field, finish_field = DATASET_FIELDS[kind]
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        current = job_latest(locked, kind)
        if current is not None and current.active:
            raise DataError(
                f"Task {current.pk} in progress with status {current.progress}. "
                f"A {TITLES[kind]} Task is already running."
            )
        document_ids = list(
            Document.objects.filter(dataset=locked, enabled=True)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)
        )
        if not document_ids:
            raise DataError(f"No documents in Dataset {locked.pk}")
        try:
            config = resolve_chat_model(locked)
        except NoChatModel as exc:
            raise DataError(exc.message) from exc
        job = Job.objects.create(
            dataset=locked,
            kind=kind,
            document_ids=document_ids,
            chat_model=config.model_id,
            progress_msg=stamp(f"created task {kind}"),
        )
        Dataset.objects.filter(pk=locked.pk).update(**{id_field: job.pk, finish_field: None})
        setattr(dataset, id_field, job.pk)
        setattr(dataset, finish_field, None)
        transaction.on_commit(partial(_dispatch, job.pk, job.generation))
    return job


def job_cancel(*, dataset: Dataset, kind: str, wipe: bool = False) -> None:
    """Stop the dataset's running `kind` job; with `wipe`, also delete what the job built and
    forget the job (RAGFlow's DELETE /datasets/{id}/index?type=…)."""
    id_field, finish_field = DATASET_FIELDS[kind]
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        job = job_latest(locked, kind)
        if job is not None and job.active:
            _cancel(job)
        if wipe:
            if kind in WIPERS:
                import_string(WIPERS[kind])(locked)
            Dataset.objects.filter(pk=locked.pk).update(**{id_field: "", finish_field: None})
            setattr(dataset, id_field, "")
            setattr(dataset, finish_field, None)


def job_stop(*, job: Job) -> Job:
    """Cancel one running job (the dataset page's Stop button); a finished job is left as is."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.active:
            _cancel(locked)
    job.refresh_from_db()
    return job


def _cancel(job: Job) -> None:
    job.status = Status.CANCELLED
    job.progress = -1.0
    job.progress_msg = f"{job.progress_msg}\n{stamp('Cancelled by the user.')}".strip()
    job.heartbeat_at = None
    job.finished_at = timezone.now()
    job.save()


# --- the worker side --------------------------------------------------------------------------


class Stale(Exception):
    """The job was cancelled, restarted or deleted while this task worked on it."""


class JobRun:
    """One task's attempt at one job generation: what a runner works through."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.kind = job.kind
        self.generation = job.generation
        self.dataset = job.dataset
        self.document_ids: list[str] = list(job.document_ids or [])
        self.checkpoint: dict[str, Any] = dict(job.checkpoint or {})
        self.log: list[str] = [job.progress_msg] if job.progress_msg else []
        self.progress = job.progress if job.progress > 0 else 0.0
        self.calls_used = job.calls_used
        self.tokens_used = job.tokens_used
        self._last_write = 0.0
        self._stop = threading.Event()
        self._llm: LLMSession | None = None

    def _mine(self) -> Any:
        return Job.objects.filter(pk=self.job_id, generation=self.generation, status=Status.RUNNING)

    @property
    def llm(self) -> LLMSession:
        """The dataset's chat model under this job's limits (EnrichmentError when none)."""
        if self._llm is None:
            try:
                config = resolve_chat_model(self.dataset)
            except NoChatModel as exc:
                raise EnrichmentError(exc.message) from exc
            self._llm = LLMSession(
                config,
                self.dataset.pk,
                calls_used=self.calls_used,
                tokens_used=self.tokens_used,
                on_use=self._used,
            )
        return self._llm

    def _used(self, calls: int, tokens: int) -> None:
        self.calls_used += calls
        self.tokens_used += tokens
        if not self._mine().update(
            calls_used=F("calls_used") + calls,
            tokens_used=F("tokens_used") + tokens,
            heartbeat_at=timezone.now(),
        ):
            raise Stale

    def check(self) -> None:
        """Raise Stale if the job was cancelled or restarted."""
        if not self._mine().exists():
            raise Stale

    def report(self, progress: float, message: str | None = None, *, force: bool = False) -> None:
        """Write progress (and a log line) if enough time passed; Stale if the job moved on."""
        if message:
            self.log.append(stamp(message))
        self.progress = max(self.progress, min(max(progress, 0.0), 0.99))
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_WRITE_SECONDS:
            return
        self._last_write = now
        if not self._mine().update(
            progress=round(self.progress, 4),
            progress_msg="\n".join(self.log),
            heartbeat_at=timezone.now(),
        ):
            raise Stale

    def save_checkpoint(self) -> None:
        """Persist `checkpoint` (finished work) with the log; Stale if the job moved on."""
        if not self._mine().update(
            checkpoint=self.checkpoint,
            progress=round(self.progress, 4),
            progress_msg="\n".join(self.log),
            heartbeat_at=timezone.now(),
        ):
            raise Stale

    def heartbeat_forever(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._mine().update(heartbeat_at=timezone.now())
            except Exception:  # noqa: BLE001 - a missed heartbeat is harmless; the next retries
                logger.warning("heartbeat failed for job %s", self.job_id, exc_info=True)
            finally:
                close_old_connections()
        connection.close()  # this thread's own connection

    def stop_heartbeat(self) -> None:
        self._stop.set()

    def _end(self, status: str, progress: float, message: str, started: float) -> None:
        self.log.append(stamp(message))
        now = timezone.now()
        with transaction.atomic():
            updated = self._mine().update(
                status=status,
                progress=progress,
                progress_msg="\n".join(self.log),
                checkpoint=self.checkpoint,
                heartbeat_at=None,
                finished_at=now,
                process_duration=F("process_duration") + round(time.monotonic() - started, 3),
            )
            if updated and self.kind in DATASET_FIELDS:
                id_field, finish_field = DATASET_FIELDS[self.kind]
                Dataset.objects.filter(pk=self.dataset.pk, **{id_field: self.job_id}).update(
                    **{finish_field: now}
                )


def run_job(job_id: str, generation: int) -> str:
    """The Celery task body: run (or resume) one job generation."""
    job = Job.objects.select_related("dataset").filter(pk=job_id).first()
    if (
        job is None
        or job.generation != generation
        or job.status not in {Status.QUEUED, Status.RUNNING}
    ):
        return "stale"
    resumed = job.attempts > 0
    Job.objects.filter(pk=job_id, generation=generation).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=timezone.now(),
        begin_at=job.begin_at or timezone.now(),
    )
    run = JobRun(job)
    beat = threading.Thread(target=run.heartbeat_forever, daemon=True)
    beat.start()
    started = time.monotonic()
    try:
        run.report(run.progress, "Resumed from the checkpoint." if resumed else "Task has been received.", force=True)  # fmt: skip
        runner: Callable[[JobRun], None] = import_string(RUNNERS[job.kind])
        runner(run)
        llm = run._llm
        used = (
            f" {run.calls_used} chat-model calls, {run.tokens_used} tokens"
            + (f" ({llm.kept_answers} answers reused)" if llm and llm.kept_answers else "")
            + "."
        )
        run._end(Status.DONE, 1.0, f"Task done ({time.monotonic() - started:.2f}s):{used}", started)
        return "done"
    except Stale:
        return "stale"
    except EnrichmentError as exc:
        run._end(Status.FAILED, -1.0, f"[ERROR] {exc.message}", started)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - the job must end FAILED, never stay RUNNING
        logger.exception("enrichment job %s failed", job_id)
        run._end(Status.FAILED, -1.0, f"[ERROR] Internal error: {public_message(exc)}", started)
        return "failed"
    finally:
        run.stop_heartbeat()


def recover_stale_jobs(*, at_startup: bool = False) -> int:
    """Queue again the jobs no worker is on; fail those whose worker died MAX_ATTEMPTS times.

    Running jobs whose heartbeat is older than RAGSITE_ENRICHMENT_STALE_SECONDS lost their
    worker; queued jobs that never started, queued at least that long ago (at worker start-up:
    any age), whose task is not waiting in the broker, were never delivered. Both are queued
    again under a new generation and resume from their checkpoint.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.RAGSITE_ENRICHMENT_STALE_SECONDS)
    dead = dict(
        Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", "generation"
        )
    )
    never = Job.objects.filter(status__in=[Status.QUEUED, Status.RUNNING], heartbeat_at=None)
    if not at_startup:
        never = never.filter(Q(updated_at__lt=cutoff))
    queued = dict(never.values_list("pk", "generation"))
    if queued:
        waiting = waiting_task_ids()
        if waiting is None:
            logger.warning("the task queue is unreachable; %d job(s) wait for it", len(queued))
        else:
            dead.update((pk, g) for pk, g in queued.items() if task_id(pk, g) not in waiting)
    recovered = 0
    for job_id, generation in dead.items():
        with transaction.atomic():
            job = (
                Job.objects.select_for_update()
                .filter(
                    pk=job_id, generation=generation, status__in=[Status.QUEUED, Status.RUNNING]
                )
                .first()
            )
            if job is None or (job.heartbeat_at is not None and job.heartbeat_at >= cutoff):
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job.status = Status.FAILED
                job.progress = -1.0
                job.finished_at = timezone.now()
                job.progress_msg += "\n" + stamp(
                    f"[ERROR] The worker stopped unexpectedly {job.attempts} times while running "
                    "this job; giving up. Check the worker's log and memory."
                )
            else:
                job.status = Status.QUEUED
                job.generation += 1
                job.progress_msg += "\n" + stamp(
                    "The worker running this job stopped unexpectedly; it resumes from its "
                    "checkpoint."
                    if job.heartbeat_at is not None
                    else "Requeued: no worker had taken the job (the task queue was "
                    "unreachable or restarted)."
                )
                transaction.on_commit(partial(_dispatch, job.pk, job.generation))
            job.heartbeat_at = None
            job.save()
            recovered += 1
    return recovered
