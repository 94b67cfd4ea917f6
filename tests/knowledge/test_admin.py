"""Django admin changes documents and chunks only through the services: counters, term
statistics, embeddings, chunk availability and stored files stay exact."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from knowledge.models import Chunk, Dataset, Document, TermStat
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-1"))
    return client


@pytest.fixture
def document(tenant: User) -> Document:
    dataset = dataset_create(tenant=tenant, name="handbook")
    data = b"Field notes.\n"
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="notes.txt", file=ContentFile(data), size=len(data))],
    )
    return document


def change(model: str, pk: str) -> str:
    return reverse(f"admin:knowledge_{model}_change", args=[pk])


def test_disabling_a_document_in_admin_switches_its_chunks_off(root: Client, document) -> None:
    chunk_add(document=document, content="walrus census")
    response = root.post(
        change("document", document.pk),
        {"name": "notes.txt", "chunk_method": "naive", "meta_fields": '{"a": 1}'},
    )
    assert response.status_code == 302, response.content[:2000]
    document.refresh_from_db()
    assert document.enabled is False and document.meta_fields == {"a": 1}
    assert not Chunk.objects.filter(document=document, available=True).exists()


def test_admin_shows_the_services_refusals_as_form_errors(root: Client, document) -> None:
    response = root.post(
        change("document", document.pk),
        {"name": "notes.pdf", "chunk_method": "naive", "meta_fields": "{}", "enabled": "on"},
    )
    assert response.status_code == 200
    assert "The extension of file can&#x27;t be changed" in response.content.decode()
    assert Document.objects.get(pk=document.pk).name == "notes.txt"


def test_editing_a_chunk_in_admin_keeps_term_statistics_exact(root: Client, document) -> None:
    chunk = chunk_add(document=document, content="alpha beta")
    response = root.post(
        change("chunk", chunk.pk),
        {
            "content": "gamma delta",
            "important_keywords": "[]",
            "questions": "[]",
            "available": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Chunk.objects.get(pk=chunk.pk).content == "gamma delta"
    dataset_id = document.dataset_id
    assert not TermStat.objects.filter(dataset_id=dataset_id, term="alpha").exists()
    assert TermStat.objects.get(dataset_id=dataset_id, term="gamma").df == 1
    assert Dataset.objects.get(pk=dataset_id).chunk_count == 1


def test_deleting_in_admin_keeps_counters_and_removes_files(
    root: Client, document, django_capture_on_commit_callbacks
) -> None:
    chunk = chunk_add(document=document, content="alpha beta")
    with django_capture_on_commit_callbacks(execute=True):
        root.post(reverse("admin:knowledge_chunk_delete", args=[chunk.pk]), {"post": "yes"})
    assert Dataset.objects.get(pk=document.dataset_id).chunk_count == 0
    assert not TermStat.objects.exists()
    location = document.location
    with django_capture_on_commit_callbacks(execute=True):
        root.post(
            reverse("admin:knowledge_document_changelist"),
            {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"},
        )
    assert not Document.objects.exists()
    assert not default_storage.exists(location)
    assert Dataset.objects.get(pk=document.dataset_id).document_count == 0


def test_documents_and_chunks_cannot_be_added_in_admin(root: Client) -> None:
    assert root.get(reverse("admin:knowledge_document_add")).status_code == 403
    assert root.get(reverse("admin:knowledge_chunk_add")).status_code == 403
