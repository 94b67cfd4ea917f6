"""A dataset's settings changed while chunks and documents are added: every counter and every
setting survives. These run for real in parallel, each thread on its own connection."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.files import File
from django.db.models import Sum

from knowledge.models import Chunk, Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import DatasetChanges, dataset_create, dataset_update
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

CHUNKERS = 3
CHUNKS_EACH = 6
UPLOADERS = 2
UPLOADS_EACH = 6
UPDATES = 30


def test_settings_and_counters_all_survive(tenant: User) -> None:
    dataset = dataset_create(tenant=tenant, name="racing")
    documents = [
        Document.objects.create(
            dataset=dataset, tenant=tenant, name=f"notes{i}.txt", type="doc", suffix="txt"
        )
        for i in range(CHUNKERS)
    ]
    Dataset.objects.filter(pk=dataset.pk).update(document_count=len(documents))
    chunk_add(document=documents[0], content="warm up the embedding model")  # loaded once

    def chunker(worker: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(CHUNKS_EACH):
                chunk_add(
                    document=documents[worker], content=f"walrus fact {worker}-{i} from Kolguev"
                )

        return work

    def uploader(worker: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(UPLOADS_EACH):
                upload = Upload(name=f"up{worker}-{i}.txt", file=File(io.BytesIO(b"seal")), size=4)
                document_upload(tenant=tenant, dataset=Dataset.objects.get(), uploads=[upload])

        return work

    def describer() -> None:
        for i in range(UPDATES):
            changes = DatasetChanges(values={"description": f"about {i}", "pagerank": i % 10})
            dataset_update(tenant=tenant, dataset_id=dataset.pk, changes=changes)

    def renamer() -> None:
        for i in range(UPDATES):
            changes = DatasetChanges(values={"name": f"racing {i}"})
            dataset_update(tenant=tenant, dataset_id=dataset.pk, changes=changes)

    run_together(
        [chunker(w) for w in range(CHUNKERS)]
        + [uploader(w) for w in range(UPLOADERS)]
        + [describer, renamer]
    )

    row = Dataset.objects.get(pk=dataset.pk)
    chunks = Chunk.objects.filter(dataset_id=dataset.pk)
    assert chunks.count() == 1 + CHUNKERS * CHUNKS_EACH
    assert row.chunk_count == chunks.count()
    assert row.token_count == chunks.aggregate(total=Sum("token_count"))["total"]
    assert row.document_count == Document.objects.filter(dataset=row).count()
    assert row.document_count == CHUNKERS + UPLOADERS * UPLOADS_EACH
    assert row.description == f"about {UPDATES - 1}" and row.pagerank == (UPDATES - 1) % 10
    assert row.name == f"racing {UPDATES - 1}"
