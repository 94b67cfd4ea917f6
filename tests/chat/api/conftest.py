"""What the chat contract tests share: a dataset with facts, built through the services."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

FACTS = [
    "RAGFlow-compatible servers store knowledge in datasets.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Postgres with pgvector keeps one embedding per chunk.",
]
QUESTION = "How many walruses were counted on Kolguev island?"


@pytest.fixture
def facts(tenant: User) -> Dataset:
    """A dataset of the tenant's with one document holding FACTS, one chunk each."""
    dataset = dataset_create(tenant=tenant, name="facts")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="facts.txt", type="doc", suffix="txt"
    )
    for fact in FACTS:
        chunk_add(document=document, content=fact)
    dataset.refresh_from_db()
    return dataset


def collect(response: Any) -> bytes:
    """Drain an async streaming response from sync test code (on the test's DB connection)."""

    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def sse_events(response: Any) -> list[Any]:
    """The `data:` events of a RAGFlow chat stream, decoded."""
    assert response["Content-Type"] == "text/event-stream; charset=utf-8", response.content[:300]
    raw = collect(response).decode("utf-8")
    blocks = [b for b in raw.split("\n\n") if b]
    assert all(b.startswith("data:") and "\n" not in b for b in blocks), raw[:500]
    return [json.loads(b[len("data:") :]) for b in blocks]
