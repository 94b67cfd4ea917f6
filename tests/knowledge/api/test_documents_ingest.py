"""POST /api/v1/documents/ingest (RAGFlow v0.27): start, rerun and cancel parsing by document
id across the caller's datasets; someone else's or a missing document is 109."""

from __future__ import annotations

import io

import pytest

from knowledge.models import Document
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok

TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20
URL = "/api/v1/documents/ingest"


def upload(api, dataset_id: str, name: str) -> str:
    part = io.BytesIO(TEXT)
    part.name = name
    response = api.client.post(
        f"/api/v1/datasets/{dataset_id}/documents", {"file": [part]}, headers=api.headers
    )
    return assert_ok(response)[0]["id"]


@pytest.fixture
def docs(api) -> list[str]:
    one = assert_ok(api.post("/api/v1/datasets", {"name": "kb one"}))["id"]
    two = assert_ok(api.post("/api/v1/datasets", {"name": "kb two"}))["id"]
    return [upload(api, one, "a.txt"), upload(api, two, "b.txt")]


def test_start_then_cancel_across_datasets(api, docs) -> None:
    assert assert_ok(api.post(URL, {"doc_ids": docs, "run": "1", "delete": True})) is True
    assert set(Document.objects.filter(pk__in=docs).values_list("run", flat=True)) == {"1"}
    assert assert_ok(api.post(URL, {"doc_ids": docs, "run": 2})) is True
    assert set(Document.objects.filter(pk__in=docs).values_list("run", flat=True)) == {"2"}
    assert_error(
        api.post(URL, {"doc_ids": docs[:1], "run": "2"}),
        RetCode.DATA_ERROR,
        "Cannot cancel a task that is not in RUNNING status",
    )


def test_apply_kb_copies_the_dataset_settings(api, docs) -> None:
    document = Document.objects.select_related("dataset").get(pk=docs[0])
    dataset = document.dataset
    dataset.parser_config = {**dataset.parser_config, "llm_id": "m@p", "enable_metadata": True}
    dataset.save()
    assert_ok(api.post(URL, {"doc_ids": docs[:1], "run": "1", "apply_kb": True}))
    config = Document.objects.get(pk=docs[0]).parser_config
    assert config["llm_id"] == "m@p" and config["enable_metadata"] is True


def test_foreign_or_unknown_documents_are_refused(api, other_api, docs) -> None:
    for client, ids in ((other_api, docs[:1]), (api, [docs[0], "0" * 32])):
        assert_error(
            client.post(URL, {"doc_ids": ids, "run": "1"}),
            RetCode.AUTHENTICATION_ERROR,
            "no authorization",
        )
    assert set(Document.objects.filter(pk__in=docs).values_list("run", flat=True)) == {"0"}


def test_bad_input(api, docs) -> None:
    assert_error(api.post(URL, {"run": "1"}), RetCode.ARGUMENT_ERROR, "doc_ids")
    assert_error(api.post(URL, {"doc_ids": docs}), RetCode.ARGUMENT_ERROR, "run")
    assert_error(api.post(URL, {"doc_ids": docs, "run": "3"}), RetCode.ARGUMENT_ERROR, "run")
    assert_error(api.post(URL, {"doc_ids": "x", "run": "1"}), RetCode.ARGUMENT_ERROR, "doc_ids")
    assert_error(api.post(URL, [1]), RetCode.ARGUMENT_ERROR)
