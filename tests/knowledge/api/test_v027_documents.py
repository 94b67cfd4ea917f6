"""Documents in both RAGFlow API generations (v0.27 contract §2.2, §3.3): PATCH next to PUT,
delete_all, the new list filters, parse/stop under /documents, and generation-specific texts."""

from __future__ import annotations

import io
import uuid

import pytest

from knowledge.models import Document
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

TEXT = "The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 30


def upload(api, dataset_id, *files):
    parts = [io.BytesIO(content) for _, content in files]
    for part, (name, _) in zip(parts, files, strict=True):
        part.name = name
    return assert_ok(
        api.client.post(
            f"/api/v1/datasets/{dataset_id}/documents", {"file": parts}, headers=api.headers
        )
    )


@pytest.fixture
def dataset(api) -> dict:
    return assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))


@pytest.fixture
def doc(api, dataset) -> dict:
    (document,) = upload(api, dataset["id"], ("facts.txt", TEXT.encode()))
    return document


def docs_url(dataset: dict) -> str:
    return f"/api/v1/datasets/{dataset['id']}/documents"


def doc_url(dataset: dict, doc: dict) -> str:
    return f"{docs_url(dataset)}/{doc['id']}"


# --- PATCH (v0.27) and PUT (v0.22) update ----------------------------------------------------


def test_patch_updates_like_put(api, dataset, doc) -> None:
    # ragflow-sdk 0.27.3 Document.update sends PATCH; 0.22.1 sends PUT.
    data = assert_ok(api.patch(doc_url(dataset, doc), {"parser_config": {"chunk_token_num": 256}}))
    assert data["parser_config"]["chunk_token_num"] == 256
    data = assert_ok(api.patch(doc_url(dataset, doc), {"name": "renamed.txt"}))
    assert data["name"] == "renamed.txt" and data["meta_fields"] == {}
    data = assert_ok(api.put(doc_url(dataset, doc), {"name": "again.txt"}))
    assert data["name"] == "again.txt"
    listed = assert_ok(api.get(docs_url(dataset), {"id": doc["id"]}))["docs"][0]
    assert listed["name"] == "again.txt" and listed["parser_config"]["chunk_token_num"] == 256


def test_patch_accepts_an_array_body_and_boolean_enabled(api, dataset, doc) -> None:
    data = assert_ok(
        api.patch(doc_url(dataset, doc), [{"name": "x.txt"}, {"meta_fields": {"k": 1}}])
    )
    assert data["name"] == "x.txt" and data["meta_fields"] == {"k": 1}
    assert assert_ok(api.patch(doc_url(dataset, doc), {"enabled": False}))["status"] == "0"
    assert assert_ok(api.patch(doc_url(dataset, doc), {"enabled": 1}))["status"] == "1"


def test_update_texts_follow_the_generation(api, api22, other_api, dataset, doc) -> None:
    ghost = {"id": uuid.uuid1().hex}
    for method in ("put", "patch"):
        send27, send22 = getattr(api, method), getattr(api22, method)
        assert_error(
            send27(doc_url(dataset, ghost), {"name": "x.txt"}),
            RetCode.DATA_ERROR,
            "the dataset doesn't own the document",
        )
        assert_error(
            send22(doc_url(dataset, ghost), {"name": "x.txt"}),
            RetCode.DATA_ERROR,
            "The dataset doesn't own the document.",
        )
        assert_error(
            send27(doc_url(dataset, doc), {"chunk_count": 3}),
            RetCode.DATA_ERROR,
            "can't change `chunk_count`",
        )
        assert_error(
            send22(doc_url(dataset, doc), {"chunk_count": 3}),
            RetCode.DATA_ERROR,
            "Can't change `chunk_count`.",
        )
        assert_error(
            getattr(other_api, method)(doc_url(dataset, doc), {"name": "x.txt"}),
            RetCode.DATA_ERROR,
            "you don't own the dataset",
        )
    assert Document.objects.get(pk=doc["id"]).name == "facts.txt"


# --- DELETE with delete_all ---------------------------------------------------------------------


def test_delete_documents_with_delete_all_false_answers_the_count(api, api22, dataset) -> None:
    a, b = upload(api, dataset["id"], ("a.txt", b"1"), ("b.txt", b"2"))
    data = assert_ok(api22.delete(docs_url(dataset), {"ids": [a["id"]], "delete_all": False}))
    assert data == {"deleted": 1}
    assert list(Document.objects.values_list("pk", flat=True)) == [b["id"]]
    assert assert_ok(api.delete(docs_url(dataset), {"ids": None, "delete_all": True})) == {
        "deleted": 1
    }
    assert not Document.objects.exists()


def test_delete_documents_v027_rules(api, dataset, doc) -> None:
    ds = dataset["id"]
    assert_error(
        api.delete(docs_url(dataset), {"ids": None, "delete_all": False}),
        RetCode.DATA_ERROR,
        f"should either provide doc ids or set delete_all(true), dataset: {ds}. ",
    )
    assert_error(
        api.delete(docs_url(dataset), {"ids": [doc["id"]], "delete_all": True}),
        RetCode.DATA_ERROR,
        f"should not provide both doc ids and delete_all(true), dataset: {ds}. ",
    )
    # One unknown id: nothing is deleted (v0.22 deletes the rest).
    assert_error(
        api.delete(docs_url(dataset), {"ids": [doc["id"], "ghost"], "delete_all": False}),
        RetCode.DATA_ERROR,
        f"These documents do not belong to dataset {ds} or Document not found: ghost",
    )
    assert Document.objects.filter(pk=doc["id"]).exists()
    assert_error(
        api.delete(docs_url(dataset), {"ids": [doc["id"], doc["id"]], "delete_all": False}),
        RetCode.ARGUMENT_ERROR,
        f"Duplicate ids: '{doc['id']}'",
    )
    assert Document.objects.filter(pk=doc["id"]).exists()


def test_v022_delete_still_deletes_the_rest_and_answers_without_data(api22, dataset) -> None:
    a, b = upload(api22, dataset["id"], ("a.txt", b"1"), ("b.txt", b"2"))
    assert_error(
        api22.delete(docs_url(dataset), {"ids": [a["id"], "ghost"]}),
        RetCode.DATA_ERROR,
        "Documents not found: ['ghost']",
    )
    assert not Document.objects.filter(pk=a["id"]).exists()
    assert body_of(api22.delete(docs_url(dataset), {"ids": [b["id"]]})) == {"code": 0}
