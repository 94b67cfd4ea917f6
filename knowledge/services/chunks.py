"""Chunks by hand: add, list, update, delete (contract §4.2–§4.5), read-your-writes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, QuerySet

from knowledge import embeddings, fulltext
from knowledge.models import Chunk, Document
from knowledge.parsing import count_tokens
from knowledge.retrieval import tsquery_for
from knowledge.scoring import highlight
from knowledge.services import chunk_store
from knowledge.services.documents import dataset_folder
from knowledge.services.ingest import chunk_id
from ragsite.api.errors import ArgumentError, DataError
from ragsite.ids import split_duplicates

T = TypeVar("T")


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
    *,
    document: Document,
    content: str,
    important_keywords: Sequence[str] = (),
    questions: Sequence[str] = (),
    tags: Sequence[str] = (),
    tag_weights: Mapping[str, float] | None = None,
    image: bytes | None = None,
) -> Chunk:
    """Embed and store a chunk now, so it is listable, deletable and retrievable at once."""
    if not content.strip():
        raise DataError("`content` is required")
    keywords = list(important_keywords)
    asked = list(questions)
    _check_size(content, keywords, asked)
    asked = _clean_questions(asked)
    # Embedding first, outside the transaction: it is the slow part.
    vector = _vector(document, content, asked)
    new_id = chunk_id(content, document.pk)
    stored_image = _store_image(document, new_id, image) if image is not None else ""
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        # Ordinals count from 0, as parsing numbers chunks; a new one goes after the last.
        last = locked.chunks.order_by("-ordinal").values_list("ordinal", flat=True).first()
        chunk = chunk_store.prepare(
            Chunk(
                id=new_id,
                dataset_id=locked.dataset_id,
                document=locked,
                ordinal=0 if last is None else last + 1,
                content=content,
                important_keywords=keywords,
                questions=asked,
                tags=list(tags),
                tag_weights=dict(tag_weights or {}),
                image_id=f"{locked.dataset_id}-{new_id}" if stored_image else "",
                image_location=stored_image,
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


def _store_image(document: Document, chunk_pk: str, image: bytes) -> str:
    """Keep a chunk's image under its dataset's folder, so it goes with the dataset.

    Each image gets a key of its own: the old one is deleted with the old chunk row
    (chunk_store.delete_chunks), after the commit, once no chunk refers to it.
    """
    key = f"{dataset_folder(document.dataset_id)}/images/{chunk_pk}-{uuid.uuid4().hex[:8]}"
    return default_storage.save(key, ContentFile(image))


@dataclass
class ChunkPage:
    chunks: list[Chunk]
    total: int


def chunk_list(
    *,
    document: Document,
    page: int = 1,
    page_size: int = 30,
    keywords: str = "",
    ids: Sequence[str] = (),
    available: bool | None = None,
) -> ChunkPage:
    """A document's chunks in reading order, or matching `keywords` best first (highlighted).

    `ids` and `available` (RAGFlow v0.27) narrow the list to those chunks, and to those
    switched on (True) or off (False).
    """
    query: QuerySet[Chunk] = Chunk.objects.filter(document=document).defer("embedding")
    if ids:
        query = query.filter(pk__in=list(ids))
    if available is not None:
        query = query.filter(available=available)
    terms = fulltext.tokens(keywords) if keywords.strip() else []
    if terms:
        search = SearchQuery(tsquery_for(terms), search_type="raw", config="simple")
        query = query.filter(terms__search_vector=search).annotate(
            rank=SearchRank(F("terms__search_vector"), search)
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


@dataclass(frozen=True)
class ChunkChanges:
    """What one chunk update changes; a field left None stays as it is."""

    content: str | None = None
    important_keywords: list[str] | None = None
    questions: list[str] | None = None
    positions: list[Any] | None = None
    available: bool | None = None
    tags: list[str] | None = None
    tag_weights: dict[str, float] | None = None
    image: bytes | None = None


def chunk_update(*, document: Document, chunk_id: str, changes: ChunkChanges) -> Chunk:
    """Edit a chunk in place (same id); a content or questions change re-embeds it."""
    chunk = Chunk.objects.filter(pk=chunk_id, document=document).first()
    if chunk is None:
        raise DataError(f"Can't find this chunk {chunk_id}")
    content = chunk.content if changes.content is None else changes.content
    if not content.strip():
        raise DataError("`content` is required")
    keywords = _or(changes.important_keywords, chunk.important_keywords)
    questions = _or(changes.questions, chunk.questions)
    _check_size(content, keywords, questions)
    questions = _clean_questions(questions)
    if document.chunk_method == "qa" and changes.content is not None:
        _check_qa(content)
    available = _or(changes.available, chunk.available)

    needs_vector = content != chunk.content or questions != chunk.questions
    vector = _vector(document, content, questions) if needs_vector else None
    stored_image = _store_image(document, chunk.pk, changes.image) if changes.image else ""
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        old = Chunk.objects.filter(pk=chunk.pk).first()
        if old is None:
            raise DataError(f"Can't find this chunk {chunk_id}")
        new = chunk_store.prepare(
            Chunk(
                id=old.pk,
                dataset_id=old.dataset_id,
                document=locked,
                ordinal=old.ordinal,
                content=content,
                important_keywords=keywords,
                questions=questions,
                tags=_or(changes.tags, old.tags),
                tag_weights=_or(changes.tag_weights, old.tag_weights),
                image_id=f"{old.dataset_id}-{old.pk}" if stored_image else old.image_id,
                image_location=stored_image or old.image_location,
                available=bool(available) and locked.enabled,
                page_numbers=old.page_numbers,
                positions=_or(changes.positions, old.positions),
                raptor_level=old.raptor_level,  # an edited summary stays one
                token_count=count_tokens(content),
                embedding=vector if vector is not None else old.embedding,
                embedding_dim=len(vector) if vector is not None else old.embedding_dim,
                created_at=old.created_at,
            )
        )
        chunk_store.replace_chunk(locked, old, new)
    return Chunk.objects.get(pk=chunk.pk)


def _or(value: T | None, current: T) -> T:
    return current if value is None else value


def chunk_set_available(*, document: Document, chunk_ids: Sequence[str], available: bool) -> int:
    """Switch some of a document's chunks on or off (a disabled document's stay off)."""
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        return chunk_store.set_available(
            Chunk.objects.filter(document=locked, pk__in=list(chunk_ids)),
            available and locked.enabled,
        )


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
