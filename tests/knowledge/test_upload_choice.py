"""The upload form keeps "Parse after upload" as the user left it, and "parsing has started"
notices last only while something parses (issue 17). In-process half; the browser half is in
test_upload_choice_browser.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Dataset, Document
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

HTMX = {"HX-Request": "true"}
TICKED = 'name="parse" id="id_parse" checked'
TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="handbook")


def upload(client: Client, dataset: Dataset, name: str, *, parse: bool, **kw: Any) -> Any:
    data: dict[str, Any] = {"file": [SimpleUploadedFile(name, TEXT)]}
    if parse:
        data["parse"] = "on"
    return client.post(reverse("knowledge:upload_documents", args=[dataset.pk]), data, **kw)


def page(client: Client, dataset: Dataset) -> str:
    return client.get(reverse("knowledge:dataset_detail", args=[dataset.pk])).content.decode()


def test_the_box_is_ticked_until_the_user_unticks_it_and_stays_as_left(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    assert TICKED in page(alice, dataset)
    response = upload(alice, dataset, "a.txt", parse=False, headers=HTMX)
    assert TICKED not in response.content.decode()
    # A later visit, and the page after an upload without JavaScript, keep the choice too.
    assert TICKED not in page(alice, dataset)
    assert upload(alice, dataset, "b.txt", parse=False).status_code == 302
    assert TICKED not in page(alice, dataset)
    # A refused upload (no file) keeps what was sent.
    refused = alice.post(reverse("knowledge:upload_documents", args=[dataset.pk]), {}, headers=HTMX)
    assert "Choose at least one file" in refused.content.decode()
    assert TICKED not in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        ticked = upload(alice, dataset, "c.txt", parse=True, headers=HTMX).content.decode()
    assert TICKED in ticked and TICKED in page(alice, dataset)
    assert Document.objects.filter(dataset=dataset, run=Document.Run.UNSTART).count() == 2


def test_notices_that_parsing_started_are_marked_to_go_when_it_ends(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = upload(alice, dataset, "a.txt", parse=True, headers=HTMX).content.decode()
    assert (
        'class="alert alert--success parse-notice" role="status">Uploaded 1 file. Parsing' in body
    )
    for callback in queued:  # the worker parses it
        callback()
    document = Document.objects.get()
    assert document.run == Document.Run.DONE

    # Parsing a parsed document again: queued while the task waits, so the notice says so.
    url = reverse("knowledge:parse_selected", args=[dataset.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = alice.post(url, {"ids": [document.pk]}, headers=HTMX).content.decode()
    assert '<p class="alert alert--success parse-notice">Queued 1 document for parsing.</p>' in body
    assert Document.objects.get().run == Document.Run.RUNNING
