"""ragflow-sdk 0.22.1 against Daphne + a real Celery worker: a file-manager file linked to two
datasets is one stored object; each dataset's document downloads the original bytes and parses
from them (the SDK has no file-manager calls, so upload and link go over plain HTTP)."""

from __future__ import annotations

import time

import pytest
import requests
from ragflow_sdk import RAGFlow

from knowledge.models import Document, File
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FACTS = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 30


def test_linked_file_downloads_and_parses_through_the_sdk(live_server_url: str) -> None:
    user = User.objects.create_user("sdk-files", password="sdk-password-1")
    key = api_key_create(user=user, generation="v0.22")[1]
    rag = RAGFlow(api_key=key, base_url=live_server_url)
    one, two = rag.create_dataset(name="kb_one"), rag.create_dataset(name="kb_two")
    headers = {"Authorization": f"Bearer {key}"}
    api = f"{live_server_url}/api/v1"
    reply = requests.post(
        f"{api}/files", files={"file": ("walrus.txt", FACTS)}, headers=headers, timeout=30
    ).json()
    assert reply["code"] == 0, reply
    file_id = reply["data"][0]["id"]
    reply = requests.post(
        f"{api}/files/link-to-datasets",
        json={"file_ids": [file_id], "kb_ids": [one.id, two.id]},
        headers=headers,
        timeout=30,
    ).json()
    assert reply == {"code": 0, "data": True}, reply
    # One stored object: every linked document points at the file's own storage key.
    locations = set(
        Document.objects.filter(file_link__file_id=file_id).values_list("location", flat=True)
    )
    assert locations == {File.objects.get(pk=file_id).location}

    for dataset in (one, two):
        (doc,) = dataset.list_documents()
        assert doc.name == "walrus.txt" and doc.size == len(FACTS)
        assert doc.download() == FACTS
    (doc,) = one.list_documents()
    one.async_parse_documents([doc.id])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        (doc,) = one.list_documents(id=doc.id)
        if doc.run in ("DONE", "FAIL", "CANCEL"):
            break
        time.sleep(0.5)
    assert doc.run == "DONE", doc.progress_msg
    assert doc.chunk_count > 0
    # The other dataset's document and the file still have their bytes.
    (other,) = two.list_documents()
    assert other.download() == FACTS
    one.delete_documents(ids=[doc.id])
    assert other.download() == FACTS
    got = requests.get(f"{api}/files/{file_id}", headers=headers, timeout=30)
    assert got.content == FACTS
