"""Long chunks for the stream-limit tests (issue 18, defect 6): a dataset whose one chunk is a
long run of words without a sentence end, so the built-in extractive model quotes all of what it
is shown of the chunk and the answer grows with it."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from knowledge import embeddings
from knowledge.models import Chunk, Dataset, Document
from knowledge.parsing import count_tokens
from knowledge.services import chunk_store
from knowledge.services.datasets import dataset_create
from knowledge.services.ingest import chunk_id
from ragsite.accounts.models import User

WORDS = "walrus tusks gleam along the kolguev shore while colony keepers count them "
QUESTION = "walrus tusks kolguev colony keepers"


def prose(chars: int) -> str:
    """`chars` characters of words, no sentence end: one long sentence."""
    return (WORDS * (chars // len(WORDS) + 1))[:chars].strip()


def long_chunk_dataset(tenant: User, chars: int) -> Dataset:
    """A dataset with one document holding one chunk of `prose(chars)`.

    Stored as `chunk_add` stores a chunk (segmented text, term statistics, counters), except
    that it is embedded by its first words: embedding a whole megabyte takes minutes, which is
    add-chunk's cost, not what these tests measure, and retrieval finds it by keywords anyway.
    """
    dataset = dataset_create(tenant=tenant, name=f"long {chars}")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="long.txt", type="doc", suffix="txt"
    )
    content = prose(chars)
    vector = embeddings.embed_chunks(dataset.embedding_model, document.name, [content[:2000]])
    chunk = chunk_store.prepare(
        Chunk(
            id=chunk_id(content, document.pk),
            dataset_id=dataset.pk,
            document=document,
            ordinal=1,
            content=content,
            important_keywords=[],
            questions=[],
            available=True,
            token_count=count_tokens(content),
            embedding=vector[0].tolist(),
            embedding_dim=len(vector[0]),
        )
    )
    with transaction.atomic():
        chunk_store.insert_chunks(document, [chunk])
    return dataset


def size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
