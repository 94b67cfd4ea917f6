"""Document endpoints on literal paths (contract §3.3–§3.9)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from knowledge.models import Dataset, Document
from knowledge.services.ingest import run_parse
from ragsite.accounts.services import api_key_create
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of


# This module pins RAGFlow v0.22's answers (ragflow-sdk 0.22.1); test_v027_*.py covers v0.27.
@pytest.fixture
def api_key(api22_key: str) -> str:
    return api22_key


@pytest.fixture
def other_api_key(other_tenant) -> str:
    return api_key_create(user=other_tenant, name="tests v0.22", generation="v0.22")[1]


TEXT = "The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 30


def upload(api, dataset_id, *files):
    """POST multipart with repeated `file` parts, as ragflow-sdk does."""
    parts = [io.BytesIO(content) for _, content in files]
    for part, (name, _) in zip(parts, files, strict=True):
        part.name = name
    return api.client.post(
        f"/api/v1/datasets/{dataset_id}/documents", {"file": parts}, headers=api.headers
    )


@pytest.fixture
def dataset(api) -> dict:
    return assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))


@pytest.fixture
def doc(api, dataset) -> dict:
    (document,) = assert_ok(upload(api, dataset["id"], ("facts.txt", TEXT.encode())))
    return document


def docs_url(dataset: dict) -> str:
    return f"/api/v1/datasets/{dataset['id']}/documents"


# --- upload -----------------------------------------------------------------------------------


def test_upload_returns_the_slim_document_shape(api, dataset, tenant) -> None:
    (document,) = assert_ok(upload(api, dataset["id"], ("a.txt", b"hello")))
    assert set(document) == {
        "id", "dataset_id", "chunk_method", "pipeline_id", "parser_config", "created_by", "type",
        "name", "source_type", "suffix", "location", "size", "thumbnail", "run",
    }  # fmt: skip
    assert document["run"] == "UNSTART" and document["size"] == 5 and document["type"] == "doc"
    assert document["suffix"] == "txt" and document["created_by"] == tenant.pk
    assert document["parser_config"]["chunk_token_num"] == 512
    assert Dataset.objects.get(pk=dataset["id"]).document_count == 1


def test_upload_several_files_with_duplicate_and_chinese_names(api, dataset) -> None:
    documents = assert_ok(
        upload(
            api,
            dataset["id"],
            ("a.txt", b"one"),
            ("a.txt", b"two"),
            ("说明 文档.md", "# 标题\n正文".encode()),
        )
    )
    assert [d["name"] for d in documents] == ["a.txt", "a(1).txt", "说明 文档.md"]
    (again,) = assert_ok(upload(api, dataset["id"], ("a.txt", b"three")))
    assert again["name"] == "a(2).txt"
    assert Dataset.objects.get(pk=dataset["id"]).document_count == 4


def test_upload_picks_chunk_method_by_type(api, dataset) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    (image,) = assert_ok(upload(api, dataset["id"], ("scan.png", png)))
    assert (image["type"], image["chunk_method"]) == ("visual", "picture")


def test_upload_refuses_empty_files_and_stores_nothing(api, dataset) -> None:
    # RAGFlow accepts a 0-byte file (then can neither parse nor download it); ragsite refuses
    # the whole batch with 101, naming each empty file, as it does for other bad files.
    response = upload(api, dataset["id"], ("ok.txt", b"fine"), ("empty.txt", b""), ("e.md", b""))
    assert assert_error(response, RetCode.ARGUMENT_ERROR) == (
        "empty.txt: The file is empty (0 bytes).\ne.md: The file is empty (0 bytes)."
    )
    assert not Document.objects.exists()
    assert Dataset.objects.get(pk=dataset["id"]).document_count == 0
    assert not default_storage.exists(f"documents/{dataset['id']}")


def test_upload_refuses_unsupported_types_and_stores_nothing(api, dataset) -> None:
    response = upload(api, dataset["id"], ("ok.txt", b"fine"), ("tool.exe", b"MZ"), ("noext", b"x"))
    message = assert_error(response, RetCode.SERVER_ERROR)
    assert message == (
        "tool.exe: This type of file has not been supported yet!\n"
        "noext: This type of file has not been supported yet!"
    )
    assert not Document.objects.exists()


def test_upload_refuses_a_mislabelled_file(api, dataset) -> None:
    response = upload(api, dataset["id"], ("report.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    assert_error(response, RetCode.SERVER_ERROR, "report.pdf is not a PDF file")
    assert not Document.objects.exists()


def test_upload_over_the_size_limit_is_refused(api, dataset, settings) -> None:
    settings.RAGSITE_MAX_UPLOAD_BYTES = 1000
    response = upload(api, dataset["id"], ("big.txt", b"x" * 5000))
    assert_error(response, RetCode.ARGUMENT_ERROR, "larger than the limit of 1000 bytes")
    assert not Document.objects.exists()


def test_upload_form_errors(api, dataset) -> None:
    url = f"/api/v1/datasets/{dataset['id']}/documents"
    assert_error(
        api.client.post(url, {"other": "x"}, headers=api.headers),
        RetCode.ARGUMENT_ERROR,
        "No file part!",
    )
    long_name = "a" * 252 + ".txt"
    assert_error(
        upload(api, dataset["id"], (long_name, b"x")),
        RetCode.ARGUMENT_ERROR,
        "File name must be 255 bytes or less.",
    )


def test_upload_to_a_foreign_or_unknown_dataset_is_refused(api, other_api, dataset) -> None:
    response = upload(other_api, dataset["id"], ("a.txt", b"x"))
    assert_error(
        response, RetCode.EXCEPTION_ERROR, f"Can't find the dataset with ID {dataset['id']}!"
    )
    assert not Document.objects.exists()


# --- list -------------------------------------------------------------------------------------


def test_list_returns_docs_and_total(api, dataset, doc) -> None:
    data = assert_ok(api.get(docs_url(dataset)))
    assert data["total"] == 1
    (listed,) = data["docs"]
    assert listed["id"] == doc["id"] and listed["run"] == "UNSTART" and listed["status"] == "1"
    assert listed["progress"] == 0.0 and listed["chunk_count"] == 0 and listed["meta_fields"] == {}
    assert isinstance(listed["create_time"], int)


def test_list_filters_and_pages(api, dataset) -> None:
    assert_ok(
        upload(
            api,
            dataset["id"],
            ("a.txt", b"1"),
            ("b.md", b"2"),
            ("c.txt", b"3"),
            ("report.csv", b"a,b"),
        )
    )
    url = docs_url(dataset)
    names = lambda data: [d["name"] for d in data["docs"]]  # noqa: E731
    assert names(assert_ok(api.get(url, {"orderby": "name", "desc": "False"}))) == [
        "a.txt",
        "b.md",
        "c.txt",
        "report.csv",
    ]
    page = assert_ok(api.get(url, {"orderby": "name", "desc": "false", "page": 2, "page_size": 2}))
    assert names(page) == ["c.txt", "report.csv"] and page["total"] == 4
    assert names(assert_ok(api.get(url, {"keywords": "REP"}))) == ["report.csv"]
    assert sorted(names(assert_ok(api.get(f"{url}?suffix=txt&suffix=md")))) == [
        "a.txt",
        "b.md",
        "c.txt",
    ]
    assert assert_ok(api.get(url, {"run": "UNSTART"}))["total"] == 4
    assert assert_ok(api.get(f"{url}?run=DONE&run=1"))["total"] == 0
    assert names(assert_ok(api.get(url, {"name": "b.md"}))) == ["b.md"]
    assert assert_ok(api.get(url, {"page_size": 0}))["docs"] == []


def test_list_by_creation_time(api, dataset, doc) -> None:
    created = assert_ok(api.get(docs_url(dataset)))["docs"][0]["create_time"]
    assert (
        assert_ok(api.get(docs_url(dataset), {"create_time_from": created + 60_000}))["total"] == 0
    )
    assert assert_ok(api.get(docs_url(dataset), {"create_time_to": created + 60_000}))["total"] == 1


def test_list_errors(api, other_api, dataset, doc) -> None:
    url = docs_url(dataset)
    assert_error(
        api.get(url, {"id": "nope"}), RetCode.DATA_ERROR, "You don't own the document nope."
    )
    assert_error(
        api.get(url, {"name": "nope.txt"}),
        RetCode.DATA_ERROR,
        "You don't own the document nope.txt.",
    )
    assert_error(
        api.get(url, {"page": "x"}), RetCode.ARGUMENT_ERROR, "`page` should be an integer."
    )
    assert_error(api.get(url, {"orderby": "bogus"}), RetCode.EXCEPTION_ERROR)
    body = body_of(other_api.get(url))
    assert body == {
        "code": RetCode.DATA_ERROR,
        "message": f"You don't own the dataset {dataset['id']}. ",
    }


# --- update -----------------------------------------------------------------------------------


def doc_url(dataset: dict, doc: dict) -> str:
    return f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}"


def test_update_renames_and_merges_parser_config(api, dataset, doc) -> None:
    data = assert_ok(
        api.put(
            doc_url(dataset, doc),
            {"name": "renamed.TXT", "parser_config": {"chunk_token_num": 256}},
        )
    )
    assert data["name"] == "renamed.TXT" and data["parser_config"]["chunk_token_num"] == 256
    assert data["parser_config"]["delimiter"] == "\n"
    assert data["run"] == "UNSTART"


def test_update_accepts_an_array_body(api, dataset, doc) -> None:
    data = assert_ok(api.put(doc_url(dataset, doc), [{"name": "x.txt"}, {"meta_fields": {"k": 1}}]))
    assert data["name"] == "x.txt" and data["meta_fields"] == {"k": 1}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"chunk_count": 3}, RetCode.DATA_ERROR, "Can't change `chunk_count`."),
        ({"token_count": 3}, RetCode.DATA_ERROR, "Can't change `token_count`."),
        ({"progress": 0.5}, RetCode.DATA_ERROR, "Can't change `progress`."),
        ({"meta_fields": [1]}, RetCode.DATA_ERROR, "meta_fields must be a dictionary"),
        ({"name": "x.pdf"}, RetCode.ARGUMENT_ERROR, "The extension of file can't be changed"),
        ({"name": "noext"}, RetCode.ARGUMENT_ERROR, "The extension of file can't be changed"),
        (
            {"name": "a" * 256 + ".txt"},
            RetCode.ARGUMENT_ERROR,
            "File name must be 255 bytes or less.",
        ),
        ({"chunk_method": "bogus"}, RetCode.DATA_ERROR, "`chunk_method` bogus doesn't exist"),
        ({"chunk_method": ""}, RetCode.DATA_ERROR, "`chunk_method`  doesn't exist"),
    ],
)
def test_update_rules(api, dataset, doc, body, code, message) -> None:
    assert_error(api.put(doc_url(dataset, doc), body), code, message)


def test_update_same_counters_are_accepted(api, dataset, doc) -> None:
    assert_ok(api.put(doc_url(dataset, doc), {"chunk_count": 0, "token_count": 0, "progress": 0.0}))


def test_update_refuses_duplicate_names_case_sensitively(api, dataset, doc) -> None:
    assert_ok(upload(api, dataset["id"], ("other.txt", b"x")))
    assert_error(
        api.put(doc_url(dataset, doc), {"name": "other.txt"}),
        RetCode.DATA_ERROR,
        "Duplicated document name in the same dataset.",
    )
    assert assert_ok(api.put(doc_url(dataset, doc), {"name": "OTHER.txt"}))["name"] == "OTHER.txt"


def test_update_chunk_method_resets_state(api, dataset, doc) -> None:
    data = assert_ok(api.put(doc_url(dataset, doc), {"chunk_method": "manual"}))
    assert data["chunk_method"] == "manual" and data["run"] == "UNSTART"
    assert data["parser_config"]["raptor"] == {"use_raptor": False} | {
        k: v for k, v in data["parser_config"]["raptor"].items() if k != "use_raptor"
    }


def test_update_enabled_returns_the_document(api, dataset, doc) -> None:
    data = assert_ok(api.put(doc_url(dataset, doc), {"enabled": 0}))
    assert data["status"] == "0"
    assert assert_ok(api.put(doc_url(dataset, doc), {"enabled": True}))["status"] == "1"


def test_update_errors_on_ownership(api, other_api, dataset, doc) -> None:
    assert_error(
        other_api.put(doc_url(dataset, doc), {"name": "x.txt"}),
        RetCode.DATA_ERROR,
        "You don't own the dataset.",
    )
    ghost = {"id": uuid.uuid1().hex}
    assert_error(
        api.put(doc_url(dataset, ghost), {"name": "x.txt"}),
        RetCode.DATA_ERROR,
        "The dataset doesn't own the document.",
    )


# --- download ---------------------------------------------------------------------------------


def test_download_returns_the_original_bytes(api, dataset) -> None:
    payload = "第一行\nsecond line\n".encode()
    (document,) = assert_ok(upload(api, dataset["id"], ("笔记.txt", payload)))
    response = api.client.get(doc_url(dataset, document), headers=api.headers)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == payload
    assert response["Content-Type"].startswith("text/plain")
    assert "attachment" in response["Content-Disposition"]
    assert "filename*=utf-8''%E7%AC%94%E8%AE%B0.txt" in response["Content-Disposition"]


def test_download_errors_have_exactly_code_and_message(api, other_api, dataset, doc) -> None:
    assert body_of(other_api.get(doc_url(dataset, doc))) == {
        "code": RetCode.DATA_ERROR,
        "message": f"You do not own the dataset {dataset['id']}.",
    }
    ghost = {"id": "nope"}
    assert body_of(api.get(doc_url(dataset, ghost))) == {
        "code": RetCode.DATA_ERROR,
        "message": "The dataset not own the document nope.",
    }
    # A document whose stored file is empty (kept from before uploads refused empty files).
    (empty,) = assert_ok(upload(api, dataset["id"], ("empty.txt", b"x")))
    stored = Document.objects.get(pk=empty["id"])
    default_storage.delete(stored.location)
    default_storage.save(stored.location, io.BytesIO(b""))
    Document.objects.filter(pk=stored.pk).update(size=0)
    assert body_of(api.get(doc_url(dataset, empty))) == {
        "code": RetCode.DATA_ERROR,
        "message": "This file is empty.",
    }


# --- delete -------------------------------------------------------------------------------------


def test_delete_documents_with_files(api, dataset, doc, django_capture_on_commit_callbacks) -> None:
    location = Document.objects.get(pk=doc["id"]).location
    assert default_storage.exists(location)
    with django_capture_on_commit_callbacks(execute=True):
        assert body_of(api.delete(docs_url(dataset), {"ids": [doc["id"]]})) == {"code": 0}
    assert not Document.objects.exists()
    assert not default_storage.exists(location)
    assert Dataset.objects.get(pk=dataset["id"]).document_count == 0


@pytest.mark.parametrize("body", [{"ids": None}, {"delete_all": True}])
def test_delete_all_takes_an_explicit_request(api, dataset, body) -> None:
    assert_ok(upload(api, dataset["id"], ("a.txt", b"1"), ("b.txt", b"2")))
    assert_ok(api.delete(docs_url(dataset), body))
    assert not Document.objects.exists()


@pytest.mark.parametrize("body", [None, {}, {"ids": []}, {"delete_all": False}])
def test_delete_without_ids_deletes_nothing(api, dataset, body) -> None:
    assert_ok(upload(api, dataset["id"], ("a.txt", b"1"), ("b.txt", b"2")))
    if body is None:
        response = api.client.delete(docs_url(dataset), headers=api.headers)
    else:
        response = api.delete(docs_url(dataset), body)
    assert_error(response, RetCode.DATA_ERROR, "should either provide doc ids or set delete_all")
    assert Document.objects.count() == 2


def test_delete_reports_unknown_ids_after_deleting_the_rest(api, dataset, doc) -> None:
    response = api.delete(docs_url(dataset), {"ids": [doc["id"], "ghost"]})
    assert_error(response, RetCode.DATA_ERROR, "Documents not found: ['ghost']")
    assert not Document.objects.exists()


def test_delete_dedupes_ids(api, dataset, doc) -> None:
    data = assert_ok(api.delete(docs_url(dataset), {"ids": [doc["id"], doc["id"]]}))
    assert data == {"success_count": 1, "errors": [f"Duplicate document ids: {doc['id']}"]}


def test_delete_in_a_foreign_dataset_is_refused(api, other_api, dataset, doc) -> None:
    body = body_of(other_api.delete(docs_url(dataset), {"ids": None}))
    assert body == {
        "code": RetCode.DATA_ERROR,
        "message": f"You don't own the dataset {dataset['id']}. ",
    }
    assert Document.objects.filter(pk=doc["id"]).exists()


def test_deleting_a_dataset_removes_its_documents_and_files(
    api, dataset, doc, django_capture_on_commit_callbacks
) -> None:
    location = Document.objects.get(pk=doc["id"]).location
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.delete("/api/v1/datasets", {"ids": [dataset["id"]]}))
    assert not Document.objects.exists()
    assert not default_storage.exists(location)


# --- parse and stop -----------------------------------------------------------------------------


def parse_url(dataset: dict) -> str:
    return f"/api/v1/datasets/{dataset['id']}/chunks"


def test_parse_runs_to_done_with_chunks(
    api, dataset, doc, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert body_of(api.post(parse_url(dataset), {"document_ids": [doc["id"]]})) == {"code": 0}
    listed = assert_ok(api.get(docs_url(dataset), {"id": doc["id"]}))["docs"][0]
    assert listed["run"] == "DONE", listed["progress_msg"]
    assert listed["progress"] == 1.0 and listed["chunk_count"] > 0 and listed["token_count"] > 0
    assert "Task done" in listed["progress_msg"] and listed["process_duration"] > 0
    assert listed["process_begin_at"].endswith("GMT")
    kb = Dataset.objects.get(pk=dataset["id"])
    assert (kb.chunk_count, kb.token_count) == (listed["chunk_count"], listed["token_count"])


def test_reparse_replaces_chunks_and_keeps_counters_exact(
    api, dataset, doc, django_capture_on_commit_callbacks
) -> None:
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert_ok(api.post(parse_url(dataset), {"document_ids": [doc["id"]]}))
    document = Document.objects.get(pk=doc["id"])
    assert document.run == Document.Run.DONE
    assert document.chunks.count() == document.chunk_count
    assert Dataset.objects.get(pk=dataset["id"]).chunk_count == document.chunk_count


def test_a_broken_file_fails_with_a_readable_message(
    api, dataset, django_capture_on_commit_callbacks
) -> None:
    (broken,) = assert_ok(
        upload(api, dataset["id"], ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(parse_url(dataset), {"document_ids": [broken["id"]]}))
    listed = assert_ok(api.get(docs_url(dataset), {"id": broken["id"]}))["docs"][0]
    assert listed["run"] == "FAIL" and listed["progress"] == -1
    assert "PDF" in listed["progress_msg"] and "Traceback" not in listed["progress_msg"]


def test_parse_errors(api, other_api, dataset, doc) -> None:
    assert_error(api.post(parse_url(dataset), {}), RetCode.DATA_ERROR, "`document_ids` is required")
    assert_error(
        api.post(parse_url(dataset), {"document_ids": []}),
        RetCode.DATA_ERROR,
        "`document_ids` is required",
    )
    assert_error(
        other_api.post(parse_url(dataset), {"document_ids": [doc["id"]]}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {dataset['id']}.",
    )
    assert_error(
        api.post(parse_url(dataset), {"document_ids": [doc["id"], "ghost"]}),
        RetCode.DATA_ERROR,
        "Documents not found: ['ghost']",
    )
    assert (
        Document.objects.get(pk=doc["id"]).run == Document.Run.RUNNING
    )  # the valid one was queued
    Document.objects.filter(pk=doc["id"]).update(progress=0.5)
    assert_error(
        api.post(parse_url(dataset), {"document_ids": [doc["id"]]}),
        RetCode.DATA_ERROR,
        "Can't parse document that is currently being processed",
    )


def test_parse_dedupes_ids(api, dataset, doc) -> None:
    data = assert_ok(api.post(parse_url(dataset), {"document_ids": [doc["id"], doc["id"]]}))
    assert data == {"success_count": 1, "errors": [f"Duplicate document ids: {doc['id']}"]}


def test_stop_cancels_and_the_worker_writes_nothing(api, dataset, doc) -> None:
    assert_ok(api.post(parse_url(dataset), {"document_ids": [doc["id"]]}))  # queued, not run
    generation = Document.objects.get(pk=doc["id"]).parse_generation
    assert body_of(api.delete(parse_url(dataset), {"document_ids": [doc["id"]]})) == {"code": 0}
    assert run_parse(doc["id"], generation) == "stale"
    document = Document.objects.get(pk=doc["id"])
    assert (document.run, document.progress, document.chunk_count) == (Document.Run.CANCEL, 0.0, 0)
    assert not document.chunks.exists()


def test_stop_errors(api, dataset, doc) -> None:
    assert_error(
        api.delete(parse_url(dataset), {"document_ids": [doc["id"]]}),
        RetCode.DATA_ERROR,
        "Can't stop parsing document with progress at 0 or 1",
    )
    assert_error(
        api.delete(parse_url(dataset), {"document_ids": ["ghost"]}),
        RetCode.DATA_ERROR,
        "You don't own the document ghost.",
    )
    Document.objects.filter(pk=doc["id"]).update(run=Document.Run.DONE, progress=1.0)
    assert_error(
        api.delete(parse_url(dataset), {"document_ids": [doc["id"]]}),
        RetCode.DATA_ERROR,
        "Can't stop parsing document with progress at 0 or 1",
    )


def test_other_tenant_cannot_download_or_list(other_api, dataset, doc) -> None:
    client = Client()
    assert_error(client.get(docs_url(dataset), headers=other_api.headers), RetCode.DATA_ERROR)
