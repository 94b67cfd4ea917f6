"""The knowledge-base page refuses 0-byte files with a message, and stores nothing (issue 16)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Dataset, Document
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="handbook")


def post_files(client: Client, dataset: Dataset, *files: tuple[str, bytes], **kw: object):
    data = {"file": [SimpleUploadedFile(name, body) for name, body in files], "parse": "on"}
    return client.post(reverse("knowledge:upload_documents", args=[dataset.pk]), data, **kw)


def test_an_empty_file_is_refused_on_the_page_with_its_name(
    alice: Client, dataset: Dataset
) -> None:
    response = post_files(
        alice,
        dataset,
        ("walrus.txt", b"The walrus colony was counted."),
        ("blank.txt", b""),
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert "Nothing was uploaded:" in body
    errors = re.findall(r"<li>(.*?)</li>", body.split('class="upload-errors"')[1])
    assert errors == ["blank.txt: The file is empty (0 bytes)."]
    assert not Document.objects.exists()
    dataset.refresh_from_db()
    assert dataset.document_count == 0


def test_without_javascript_the_page_shows_the_same_message(
    alice: Client, dataset: Dataset
) -> None:
    response = post_files(alice, dataset, ("blank.md", b""))
    assert response.status_code == 200
    assert "blank.md: The file is empty (0 bytes)." in response.content.decode()
    assert not Document.objects.exists()
