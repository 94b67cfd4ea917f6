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


# --- list filters -----------------------------------------------------------------------------------


def _with_metadata(api, dataset) -> list[dict]:
    a, b, c = upload(
        api, dataset["id"], ("a.txt", b"1"), ("b.txt", b"2"), ("c.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    Document.objects.filter(pk=a["id"]).update(meta_fields={"author": "Ann", "year": 2019})
    Document.objects.filter(pk=b["id"]).update(meta_fields={"author": "Bob", "year": 2021})
    return [a, b, c]


def names(api, dataset, **params) -> list[str]:
    data = assert_ok(api.get(docs_url(dataset), {"orderby": "name", "desc": "false", **params}))
    return [d["name"] for d in data["docs"]]


def test_list_by_ids_and_types(api, api22, dataset) -> None:
    a, b, c = _with_metadata(api, dataset)
    for client in (api, api22):
        assert names(client, dataset, ids=[a["id"], c["id"]]) == ["a.txt", "c.pdf"]
        assert names(client, dataset, types=["pdf"]) == ["c.pdf"]
        assert names(client, dataset, types="doc,pdf") == ["a.txt", "b.txt", "c.pdf"]
    assert_error(
        api.get(docs_url(dataset), {"id": a["id"], "ids": [b["id"]]}),
        RetCode.DATA_ERROR,
        f"Should not provide both 'id':{a['id']} and 'ids'",
    )
    assert_error(
        api.get(docs_url(dataset), {"types": "bogus"}),
        RetCode.DATA_ERROR,
        "Invalid filter conditions: bogus type",
    )


def test_list_by_metadata(api, dataset) -> None:
    _with_metadata(api, dataset)
    after_2020 = '{"conditions": [{"name": "year", "comparison_operator": ">", "value": 2020}]}'
    assert names(api, dataset, metadata_condition=after_2020) == ["b.txt"]
    either = (
        '{"logic": "or", "conditions": [{"name": "author", "comparison_operator": "is", '
        '"value": "ann"}, {"name": "year", "comparison_operator": "=", "value": 2021}]}'
    )
    assert names(api, dataset, metadata_condition=either) == ["a.txt", "b.txt"]
    nothing = '{"conditions": [{"name": "author", "comparison_operator": "is", "value": "Zed"}]}'
    data = assert_ok(api.get(docs_url(dataset), {"metadata_condition": nothing}))
    assert data == {"total": 0, "docs": []}
    assert names(api, dataset, metadata='{"author": ["Ann", "Bob"]}') == ["a.txt", "b.txt"]
    assert names(api, dataset, metadata='{"empty_metadata": true}') == ["c.pdf"]
    everything = names(api, dataset, metadata='{"author": "Zed"}', return_empty_metadata="true")
    assert everything == ["a.txt", "b.txt", "c.pdf"]
    assert_error(
        api.get(docs_url(dataset), {"metadata_condition": "{oops"}),
        RetCode.DATA_ERROR,
        "metadata_condition must be valid JSON: {oops.",
    )


def test_page_size_zero_follows_the_generation(api, api22, dataset, doc) -> None:
    # G8: v0.22 returns no documents for page_size=0, v0.27 falls back to 30.
    assert assert_ok(api22.get(docs_url(dataset), {"page_size": 0}))["docs"] == []
    assert len(assert_ok(api.get(docs_url(dataset), {"page_size": 0}))["docs"]) == 1


def test_list_of_an_unknown_document_is_worded_by_generation(api, api22, dataset) -> None:
    assert_error(
        api.get(docs_url(dataset), {"id": "nope"}),
        RetCode.DATA_ERROR,
        "you don't own the document nope",
    )
    assert_error(
        api22.get(docs_url(dataset), {"name": "nope.txt"}),
        RetCode.DATA_ERROR,
        "You don't own the document nope.txt.",
    )


# --- POST /documents/parse and /documents/stop ----------------------------------------------


def test_documents_parse_and_stop(api, dataset, doc, django_capture_on_commit_callbacks) -> None:
    url = f"{docs_url(dataset)}/parse"
    data = assert_ok(api.post(url, {"document_ids": [doc["id"], doc["id"]]}))
    assert data == {"success_count": 1, "errors": [f"Duplicate document ids: {doc['id']}"]}
    assert Document.objects.get(pk=doc["id"]).run == Document.Run.RUNNING
    # A running document may be parsed again.
    Document.objects.filter(pk=doc["id"]).update(progress=0.5)
    assert assert_ok(api.post(url, {"document_ids": [doc["id"]]})) == {"success_count": 1}
    stop = f"{docs_url(dataset)}/stop"
    assert assert_ok(api.post(stop, {"document_ids": [doc["id"]]})) == {"success_count": 1}
    assert Document.objects.get(pk=doc["id"]).run == Document.Run.CANCEL
    # Not parsing: reported, still code 0.
    data = assert_ok(api.post(stop, {"document_ids": [doc["id"]]}))
    assert data == {
        "success_count": 0,
        "errors": ["Can't stop parsing document that has not started or already completed"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(url, {"document_ids": [doc["id"]]}))
    assert Document.objects.get(pk=doc["id"]).run == Document.Run.DONE


def test_documents_parse_and_stop_errors(api, other_api, dataset, doc) -> None:
    url, stop = f"{docs_url(dataset)}/parse", f"{docs_url(dataset)}/stop"
    assert_error(api.post(url, {}), RetCode.DATA_ERROR, "`document_ids` is required")
    assert_error(
        other_api.post(url, {"document_ids": [doc["id"]]}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {dataset['id']}.",
    )
    # Unknown ids: the known ones are queued anyway, as in RAGFlow.
    assert_error(
        api.post(url, {"document_ids": [doc["id"], "ghost"]}),
        RetCode.DATA_ERROR,
        "Documents not found: ['ghost']",
    )
    assert Document.objects.get(pk=doc["id"]).run == Document.Run.RUNNING
    # Stop: an unknown id stops nothing.
    assert_error(
        api.post(stop, {"document_ids": [doc["id"], "ghost"]}),
        RetCode.DATA_ERROR,
        "Documents not found: ['ghost']",
    )
    assert Document.objects.get(pk=doc["id"]).run == Document.Run.RUNNING


# --- texts that differ between the generations ------------------------------------------------


def test_stop_on_the_old_route_is_worded_by_generation(api, api22, dataset, doc) -> None:
    url = f"/api/v1/datasets/{dataset['id']}/chunks"
    assert body_of(api.delete(url, {"document_ids": [doc["id"]]})) == {
        "code": RetCode.DATA_ERROR,
        "message": "Can't stop parsing document that has not started or already completed",
        "data": {"error_code": "DOC_STOP_PARSING_INVALID_STATE"},
    }
    assert body_of(api22.delete(url, {"document_ids": [doc["id"]]})) == {
        "code": RetCode.DATA_ERROR,
        "message": "Can't stop parsing document with progress at 0 or 1",
    }


def test_upload_to_an_unknown_dataset_is_102_in_v027_and_100_in_v022(api, api22) -> None:
    ghost = uuid.uuid1().hex
    part = io.BytesIO(b"x")
    part.name = "a.txt"
    for client, code in ((api, RetCode.DATA_ERROR), (api22, RetCode.EXCEPTION_ERROR)):
        part.seek(0)
        response = client.client.post(
            f"/api/v1/datasets/{ghost}/documents", {"file": [part]}, headers=client.headers
        )
        assert_error(response, code, f"Can't find the dataset with ID {ghost}!")


def test_download_errors_are_worded_by_generation(api, api22, other_api, dataset, doc) -> None:
    ghost = {"id": "nope"}
    assert body_of(api.get(doc_url(dataset, ghost))) == {
        "code": RetCode.DATA_ERROR,
        "message": "document not found",
    }
    assert body_of(other_api.get(doc_url(dataset, doc))) == {
        "code": RetCode.DATA_ERROR,
        "message": "document not found",
    }
    assert body_of(api22.get(doc_url(dataset, ghost)))["message"] == (
        "The dataset not own the document nope."
    )
    response = api.client.get(doc_url(dataset, doc), headers=api.headers)
    assert response["Content-Disposition"].startswith("attachment")
