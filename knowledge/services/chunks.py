"""Chunks by hand: add, list, update, delete (contract §4.2–§4.5), read-your-writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import transaction
from django.db.models import F, QuerySet

from knowledge import embeddings, fulltext
from knowledge.models import Chunk, Document
from knowledge.parsing import count_tokens
from knowledge.retrieval import highlight, tsquery_for
from knowledge.services import chunk_store
from knowledge.services.ingest import chunk_id
from ragsite.api.errors import ArgumentError, DataError
from ragsite.ids import split_duplicates


def _check_strings(items: list[Any], field: str) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, str):
            # RAGFlow's "".join() fails here (code 100 with a TypeError); say it plainly.
            raise DataError(
                f"`{field}` should be a list of strings (item {index} is a {type(item).__name__})."
            )


def _check_size(content: str, keywords: list[str], questions: list[str]) -> None:
    """A chunk, its keywords and its questions each stay under RAGSITE_MAX_CHUNK_CHARS."""
    limit = settings.RAGSITE_MAX_CHUNK_CHARS
    if len(content) > limit:
        raise ArgumentError(f"`content` is too long: at most {limit} characters.")
    for field, items in (("important_keywords", keywords), ("questions", questions)):
        if sum(len(item) for item in items) > limit:
            raise ArgumentError(f"`{field}` is too long: at most {limit} characters in all.")


def _clean_questions(questions: list[str]) -> list[str]:
    return [q.strip() for q in questions if q.strip()]


def _vector(document: Document, content: str, questions: list[str]) -> list[float]:
    """0.1 × embed(document name) + 0.9 × embed(content), or embed(questions) if any."""
    if questions:
        return embeddings.embed_texts(document.dataset.embedding_model, ["\n".join(questions)])[
            0
        ].tolist()
    return embeddings.embed_chunks(document.dataset.embedding_model, document.name, [content])[
        0
    ].tolist()


def chunk_add(
    *, document: Document, content: Any, important_keywords: Any = None, questions: Any = None
) -> Chunk:
    """Embed and store a chunk now, so it is listable, deletable and retrievable at once."""
    if not isinstance(content, str) or not content.strip():
        raise DataError("`content` is required")
    keywords = [] if important_keywords is None else important_keywords
    asked = [] if questions is None else questions
    if not isinstance(keywords, list):
        raise DataError("`important_keywords` is required to be a list")
    if not isinstance(asked, list):
        raise DataError("`questions` is required to be a list")
    _check_strings(keywords, "important_keywords")
    _check_strings(asked, "questions")
    _check_size(content, keywords, asked)
    asked = _clean_questions(asked)
    # Embedding first, outside the transaction: it is the slow part.
    vector = _vector(document, content, asked)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        chunk = chunk_store.prepare(
            Chunk(
                id=chunk_id(content, locked.pk),
                dataset_id=locked.dataset_id,
                document=locked,
                ordinal=(
                    locked.chunks.order_by("-ordinal").values_list("ordinal", flat=True).first()
                    or 0
                )
                + 1,
                content=content,
                important_keywords=keywords,
                questions=asked,
                available=locked.enabled,
                token_count=count_tokens(content),
                embedding=vector,
                embedding_dim=len(vector),
            )
        )
        # The same content added again has the same id: it replaces the old chunk.
        chunk_store.delete_chunks(locked, [chunk.pk])
        chunk_store.insert_chunks(locked, [chunk])
    return Chunk.objects.get(pk=chunk.pk)


@dataclass
class ChunkPage:
    chunks: list[Chunk]
    total: int


def chunk_list(
    *, document: Document, page: int = 1, page_size: int = 30, keywords: str = ""
) -> ChunkPage:
    """A document's chunks in reading order, or matching `keywords` best first (highlighted)."""
    query: QuerySet[Chunk] = Chunk.objects.filter(document=document).defer(
        "embedding", "search_vector"
    )
    terms = fulltext.tokens(keywords) if keywords.strip() else []
    if terms:
        search = SearchQuery(tsquery_for(terms), search_type="raw", config="simple")
        query = query.filter(search_vector=search).annotate(
            rank=SearchRank(F("search_vector"), search)
        )
        query = query.order_by("-rank", "ordinal")
    else:
        query = query.order_by("page_numbers", "ordinal", "-created_at")
    total = query.count()
    start = (max(page, 1) - 1) * max(page_size, 0)
    chunks = list(query[start : start + max(page_size, 0)])
    if terms:
        for chunk in chunks:
            chunk.content = highlight(chunk.content, terms)
    return ChunkPage(chunks, total)


QA_SEPARATORS = ("\t", "\n")


def _check_qa(content: str) -> None:
    for separator in QA_SEPARATORS:
        parts = content.split(separator)
        if len(parts) == 2 and all(len(p.strip()) > 1 for p in parts):
            return
    raise DataError("Q&A must be separated by TAB/ENTER key.")


def chunk_update(*, document: Document, chunk_id_: str, body: dict[str, Any]) -> Chunk:
    """Edit a chunk in place (same id); a content or questions change re-embeds it."""
    chunk = Chunk.objects.filter(pk=chunk_id_, document=document).first()
    if chunk is None:
        raise DataError(f"Can't find this chunk {chunk_id_}")
    content = body.get("content", chunk.content)
    if not isinstance(content, str) or not content.strip():
        raise DataError("`content` is required")
    keywords = body.get("important_keywords", chunk.important_keywords)
    if not isinstance(keywords, list):
        raise DataError("`important_keywords` should be a list")
    questions = body.get("questions", chunk.questions)
    if not isinstance(questions, list):
        raise DataError("`questions` should be a list")
    positions = body.get("positions", chunk.positions)
    if not isinstance(positions, list):
        raise DataError("`positions` should be a list")
    _check_strings(keywords, "important_keywords")
    _check_strings(questions, "questions")
    _check_size(content, keywords, questions)
    questions = _clean_questions(questions)
    if document.chunk_method == "qa" and "content" in body:
        _check_qa(content)
    available = body.get("available", chunk.available)
    if available not in (0, 1, True, False):
        raise DataError("`available` should be a boolean")

    needs_vector = content != chunk.content or questions != chunk.questions
    vector = _vector(document, content, questions) if needs_vector else None
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        old = Chunk.objects.filter(pk=chunk.pk).first()
        if old is None:
            raise DataError(f"Can't find this chunk {chunk_id_}")
        new = chunk_store.prepare(
            Chunk(
                id=old.pk,
                dataset_id=old.dataset_id,
                document=locked,
                ordinal=old.ordinal,
                content=content,
                important_keywords=keywords,
                questions=questions,
                available=bool(available) and locked.enabled,
                page_numbers=old.page_numbers,
                positions=positions,
                token_count=count_tokens(content),
                embedding=vector if vector is not None else old.embedding,
                embedding_dim=len(vector) if vector is not None else old.embedding_dim,
                created_at=old.created_at,
            )
        )
        chunk_store.replace_chunk(locked, old, new)
    return Chunk.objects.get(pk=chunk.pk)


@dataclass
class DeleteOutcome:
    deleted: int
    requested: int
    duplicates: list[str]


def chunk_delete(*, document: Document, ids: Sequence[Any] | None) -> DeleteOutcome:
    """Delete some (or, with ids None, all) of one document's chunks; never another document's."""
    unique, duplicates = split_duplicates(ids or [])
    if ids is not None and not unique:
        return DeleteOutcome(0, 0, duplicates)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        deleted = chunk_store.delete_chunks(locked, None if ids is None else unique)
    return DeleteOutcome(deleted, len(unique), duplicates)
