"""Deleting a dataset removes its folder under the media dir, once the delete is committed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.test import Client
from django.urls import reverse

from knowledge.models import Dataset, Document
from knowledge.services.datasets import dataset_create, dataset_delete
from knowledge.services.documents import Upload, document_delete, document_upload
from ragsite.accounts.models import User
from tests.conftest import ApiClient
from tests.helpers import assert_ok

pytestmark = pytest.mark.django_db


def media() -> Path:
    return Path(settings.MEDIA_ROOT)


def folder_of(dataset: Dataset) -> Path:
    return media() / "documents" / dataset.pk


def with_files(tenant: User, name: str, count: int = 2) -> Dataset:
    dataset = dataset_create(tenant=tenant, name=name)
    uploads = [
        Upload(name=f"note{i}.txt", file=File(io.BytesIO(b"walrus %d" % i)), size=8)
        for i in range(count)
    ]
    document_upload(tenant=tenant, dataset=dataset, uploads=uploads)
    assert len(list(folder_of(dataset).iterdir())) == count
    return dataset


def test_deleting_a_dataset_removes_its_folder(
    tenant: User, django_capture_on_commit_callbacks
) -> None:
    doomed = with_files(tenant, "doomed")
    kept = with_files(tenant, "kept")
    (folder_of(doomed) / "left-over.tmp").write_bytes(b"x")  # e.g. from a crashed upload
    with django_capture_on_commit_callbacks(execute=True):
        assert dataset_delete(tenant=tenant, ids=[doomed.pk]) == 1
    assert not folder_of(doomed).exists()
    assert len(list(folder_of(kept).iterdir())) == 2  # another dataset's files stay
    with django_capture_on_commit_callbacks(execute=True):
        dataset_delete(tenant=tenant, ids=None)
    assert not folder_of(kept).exists()
    assert [p for p in media().rglob("*") if p.is_file()] == []


def test_a_rolled_back_delete_keeps_the_folder(
    tenant: User, django_capture_on_commit_callbacks
) -> None:
    dataset = with_files(tenant, "kept")

    def delete_then_fail() -> None:
        with transaction.atomic():
            dataset_delete(tenant=tenant, ids=[dataset.pk])
            raise RuntimeError("rolled back")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        delete_then_fail()
    assert callbacks == []
    assert Dataset.objects.filter(pk=dataset.pk).exists()
    assert len(list(folder_of(dataset).iterdir())) == 2


def test_deleting_documents_keeps_the_dataset_folder_usable(
    tenant: User, django_capture_on_commit_callbacks
) -> None:
    dataset = with_files(tenant, "docs")
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(dataset=dataset, ids=None)
    assert not any(folder_of(dataset).iterdir())
    with_more = [Upload(name="again.txt", file=File(io.BytesIO(b"again")), size=5)]
    document_upload(tenant=tenant, dataset=dataset, uploads=with_more)
    assert [p.name for p in folder_of(dataset).iterdir()] == [Document.objects.get().pk]


def test_the_api_and_the_page_remove_the_folder(
    api: ApiClient, client: Client, tenant: User, django_capture_on_commit_callbacks
) -> None:
    by_api = with_files(tenant, "by api")
    by_page = with_files(tenant, "by page")
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.delete("/api/v1/datasets", {"ids": [by_api.pk]}))
    assert not folder_of(by_api).exists()
    client.force_login(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("knowledge:delete_dataset", args=[by_page.pk]))
    assert not Dataset.objects.exists()
    assert not folder_of(by_page).exists()
