"""ragflow-sdk 0.22.1 against Daphne + a real Celery worker: the user's guide, steps 4.x."""

from __future__ import annotations

import time

import pytest
from ragflow_sdk import RAGFlow

from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FACTS = (
    "RAGFlow-compatible servers store knowledge in datasets.\n"
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n"
    "Postgres with pgvector keeps one embedding per chunk.\n"
) * 20
OTHER = "A short second document about lighthouse keepers and fog signals.\n" * 40


@pytest.fixture
def rag(live_server_url: str) -> RAGFlow:
    user = User.objects.create_user("sdk-docs", password="sdk-password-1")
    return RAGFlow(
        api_key=api_key_create(user=user, generation="v0.22")[1], base_url=live_server_url
    )


def wait_terminal(dataset, doc_id: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = dataset.list_documents(id=doc_id)[0]
        if doc.run in ("DONE", "FAIL", "CANCEL"):
            return doc
        time.sleep(0.5)
    raise AssertionError(f"{doc_id} still {doc.run}: {doc.progress_msg}")


def test_sdk_document_lifecycle(rag: RAGFlow) -> None:
    ds = rag.create_dataset(name="kb_docs")
    ds.upload_documents(
        [
            {"display_name": "1.txt", "blob": FACTS.encode()},
            {"display_name": "2.txt", "blob": OTHER.encode()},
        ]
    )
    docs = {d.name: d for d in ds.list_documents(page_size=100)}
    assert set(docs) == {"1.txt", "2.txt"}
    assert docs["1.txt"].size == len(FACTS.encode())
    doc, doc2 = docs["1.txt"], docs["2.txt"]

    doc.update({"parser_config": {"chunk_token_num": 256}})
    doc.update({"name": "1-renamed.txt"})
    fresh = ds.list_documents(id=doc.id)[0]
    assert fresh.name == "1-renamed.txt"
    assert fresh.parser_config.chunk_token_num == 256

    assert fresh.download() == FACTS.encode()

    ds.async_parse_documents([doc.id])
    parsed = wait_terminal(ds, doc.id)
    assert parsed.run == "DONE", parsed.progress_msg
    assert parsed.chunk_count > 0 and parsed.progress == 1.0
    assert "Task done" in parsed.progress_msg

    ds.async_parse_documents([doc2.id])
    # A queued or running parse is cancelled; one that already finished is refused with a
    # message that says so. Either way the document ends in a terminal state.
    try:
        ds.async_cancel_parse_documents([doc2.id])
        refused = ""
    except Exception as exc:  # noqa: BLE001 - the SDK raises a bare Exception
        refused = str(exc)
    assert refused in ("", "Can't stop parsing document with progress at 0 or 1")
    time.sleep(1)
    assert ds.list_documents(id=doc2.id)[0].run in ("CANCEL", "DONE")

    (kb,) = rag.list_datasets(id=ds.id)
    assert kb.document_count == 2
    assert kb.chunk_count == sum(d.chunk_count for d in ds.list_documents())

    ds.delete_documents(ids=[doc.id])
    assert [d.id for d in ds.list_documents()] == [doc2.id]


def test_sdk_parse_documents_blocks_until_done(rag: RAGFlow) -> None:
    ds = rag.create_dataset(name="kb_sync")
    (doc,) = ds.upload_documents(
        [{"display_name": "notes.md", "blob": b"# Notes\n\nFog signals at dawn.\n"}]
    )
    finished = ds.parse_documents([doc.id])
    assert finished[0][1] == "DONE", finished
