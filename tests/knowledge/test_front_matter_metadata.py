"""Parsing a Markdown file with YAML front matter: chunks without it, its fields in metadata."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from knowledge.models import Document
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from knowledge.services.ingest import parse_start, run_parse
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db

README = b"---\ntitle: Quickstart\ntags: [install]\nowner: docs-team\n---\n\n# Install\n\nRun it.\n"


def test_front_matter_fills_metadata_and_leaves_no_chunk_of_its_own(tenant: User) -> None:
    dataset = dataset_create(tenant=tenant, name="guides")
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="quickstart.md", file=ContentFile(README), size=len(README))],
    )
    # What a person already set wins over the file's own value.
    Document.objects.filter(pk=document.pk).update(meta_fields={"owner": "ops"})
    parse_start(dataset=dataset, document_ids=[document.pk])
    generation = Document.objects.get(pk=document.pk).parse_generation

    assert run_parse(document.pk, generation) == "done"

    document.refresh_from_db()
    assert document.meta_fields == {"title": "Quickstart", "tags": ["install"], "owner": "ops"}
    assert list(document.chunks.order_by("ordinal").values_list("content", flat=True)) == [
        "Install\nRun it."
    ]
    assert "Front matter kept as metadata: title, tags, owner." in document.progress_msg
