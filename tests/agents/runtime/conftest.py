"""Fixtures for runtime tests: a small dataset of facts the walrus question is answered from."""

from __future__ import annotations

import pytest

from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.agents.runtime.helpers import FACTS


@pytest.fixture
def facts(tenant: User) -> Dataset:
    dataset = dataset_create(tenant=tenant, name="walrus facts")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="facts.txt", type="doc", suffix="txt"
    )
    for text in FACTS:
        chunk_add(document=document, content=text)
    return dataset
