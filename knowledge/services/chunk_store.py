"""Every write of chunk rows goes through here, so counters and term statistics stay exact.

Callers hold a transaction; these functions keep the chunks, their narrow search rows
(`ChunkTerms`), the document's and dataset's `chunk_count`/`token_count`, and the per-dataset
term document frequencies in step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import partial

from django.contrib.postgres.search import SearchVector
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.expressions import CombinedExpression

from knowledge import fulltext
from knowledge.models import Chunk, ChunkTerms, Dataset, Document, TermStat
from knowledge.parsing.text import searchable_text

MAX_TERM_LENGTH = 64


def chunk_search_vector() -> CombinedExpression:
    """Keywords and questions weigh more (A) than body text (B)."""
    return SearchVector("keywords_ltks", weight="A", config="simple") + SearchVector(
        "content_ltks", weight="B", config="simple"
    )


def chunk_terms(chunk: Chunk) -> set[str]:
    """The distinct search terms of a chunk (what its tsvector holds)."""
    words = f"{chunk.content_ltks} {chunk.keywords_ltks}".split()
    return {w for w in words if len(w) <= MAX_TERM_LENGTH}


def prepare(chunk: Chunk) -> Chunk:
    """Fill a chunk's segmented text from its content, keywords and questions."""
    chunk.content_ltks = fulltext.segment(searchable_text(chunk.content))
    chunk.keywords_ltks = fulltext.segment_many([*chunk.important_keywords, *chunk.questions])
    return chunk


def _shift_term_stats(dataset_id: str, chunks: Iterable[Chunk], sign: int) -> None:
    counts: Counter[str] = Counter()
    for chunk in chunks:
        counts.update(chunk_terms(chunk))
    if not counts:
        return
    terms = sorted(counts)  # a fixed order, so concurrent writers lock rows without deadlock
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO knowledge_termstat (dataset_id, term, df)
            SELECT %s, term, df FROM unnest(%s::text[], %s::int[]) AS t(term, df)
            ON CONFLICT (dataset_id, term) DO UPDATE SET df = knowledge_termstat.df + EXCLUDED.df
            """,
            [dataset_id, terms, [sign * counts[t] for t in terms]],
        )
    if sign < 0:
        TermStat.objects.filter(dataset_id=dataset_id, df__lte=0).delete()


def insert_chunks(document: Document, chunks: Sequence[Chunk]) -> None:
    """Insert new chunks of `document` (ids must be new) and count them everywhere."""
    if not chunks:
        return
    Chunk.objects.bulk_create(chunks, batch_size=500)
    ids = [c.pk for c in chunks]
    # Each chunk's search vector, computed from its stored terms into its narrow ChunkTerms row
    # (the keyword leg of retrieval and the chunk list's keyword filter read it there).
    rows = Chunk.objects.filter(pk__in=ids).values_list(
        "pk", "dataset_id", "document_id", "available", chunk_search_vector()
    )
    select, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO knowledge_chunkterms (chunk_id, dataset_id, document_id, available,"
            f" search_vector) {select}",
            params,
        )
    _shift_term_stats(document.dataset_id, chunks, +1)
    tokens = sum(c.token_count for c in chunks)
    Document.objects.filter(pk=document.pk).update(
        chunk_count=F("chunk_count") + len(chunks), token_count=F("token_count") + tokens
    )
    Dataset.objects.filter(pk=document.dataset_id).update(
        chunk_count=F("chunk_count") + len(chunks), token_count=F("token_count") + tokens
    )
    document.chunk_count += len(chunks)
    document.token_count += tokens


def set_available(chunks: QuerySet[Chunk], available: bool) -> int:
    """Switch chunks on or off for retrieval (in both their rows); returns how many."""
    ChunkTerms.objects.filter(chunk__in=chunks.values("pk")).update(available=available)
    return chunks.update(available=available)


def delete_chunks(document: Document, ids: Sequence[str] | None = None) -> int:
    """Delete the document's chunks (all, or those of `ids`); returns how many went."""
    query = Chunk.objects.filter(document=document)
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    doomed = list(
        query.only("pk", "content_ltks", "keywords_ltks", "token_count", "image_location")
    )
    if not doomed:
        return 0
    Chunk.objects.filter(pk__in=[c.pk for c in doomed]).delete()
    images = [c.image_location for c in doomed if c.image_location]
    if images:
        # After the commit: a rolled-back delete keeps its images.
        transaction.on_commit(partial(_delete_unused_images, images))
    _shift_term_stats(document.dataset_id, doomed, -1)
    tokens = sum(c.token_count for c in doomed)
    Document.objects.filter(pk=document.pk).update(
        chunk_count=F("chunk_count") - len(doomed), token_count=F("token_count") - tokens
    )
    Dataset.objects.filter(pk=document.dataset_id).update(
        chunk_count=F("chunk_count") - len(doomed), token_count=F("token_count") - tokens
    )
    document.chunk_count -= len(doomed)
    document.token_count -= tokens
    return len(doomed)


def _delete_unused_images(keys: Sequence[str]) -> None:
    """Delete stored chunk images no chunk refers to any more (an edit may keep its image)."""
    used = set(
        Chunk.objects.filter(image_location__in=keys).values_list("image_location", flat=True)
    )
    for key in keys:
        if key not in used:
            default_storage.delete(key)


def replace_chunk(document: Document, old: Chunk, new: Chunk) -> None:
    """Swap one chunk for an edited version (its id may change with its content)."""
    delete_chunks(document, [old.pk])
    insert_chunks(document, [new])
