"""The file manager (RAGFlow v0.27 §3.9): /api/v1/files, link-to-datasets and the old /file/*
paths; success and error shapes, tenancy on every route, bad input, and bytes stored once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings

from knowledge.models import Document, File, FileLink
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20


def upload(api, *files, parent_id=None, path="/api/v1/files"):
    parts = []
    for name, content in files:
        part = io.BytesIO(content)
        part.name = name
        parts.append(part)
    data: dict = {"file": parts}
    if parent_id:
        data["parent_id"] = parent_id
    return api.client.post(path, data, headers=api.headers)


def stored_objects() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def mkdir(api, name, parent_id=None) -> dict:
    body = {"name": name, "type": "folder"}
    if parent_id:
        body["parent_id"] = parent_id
    return assert_ok(api.post("/api/v1/files", body))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Bytes are deleted after the commit: `with committed():` runs those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dataset(api) -> dict:
    return assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))


@pytest.fixture
def afile(api) -> dict:
    (file,) = assert_ok(upload(api, ("facts.txt", TEXT)))
    return file


# --- upload, create, list --------------------------------------------------------------------


def test_upload_lists_and_downloads(api) -> None:
    created = assert_ok(upload(api, ("a.txt", b"alpha"), ("b.pdf", b"%PDF-1.4 fake")))
    assert [f["name"] for f in created] == ["a.txt", "b.pdf"]
    assert [f["type"] for f in created] == ["doc", "pdf"]
    assert created[0]["size"] == 5
    keys = {"id", "parent_id", "tenant_id", "created_by", "name", "location", "size", "type"}
    assert keys <= set(created[0]) and {"create_time", "update_time"} <= set(created[0])
    listing = assert_ok(api.get("/api/v1/files"))
    root = listing["parent_folder"]
    assert root["name"] == "/" and root["parent_id"] == root["id"]
    assert listing["total"] == 2
    assert {f["name"] for f in listing["files"]} == {"a.txt", "b.pdf"}
    assert all(f["kbs_info"] == [] for f in listing["files"])
    response = api.get(f"/api/v1/files/{created[0]['id']}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"alpha"
    assert "attachment" in response["Content-Disposition"]


def test_duplicate_upload_names_get_a_suffix(api) -> None:
    assert_ok(upload(api, ("a.txt", b"one")))
    (again,) = assert_ok(upload(api, ("a.txt", b"two")))
    assert again["name"] == "a(1).txt"


def raw_multipart_upload(api, filename: str, content: bytes):
    """Django's test client keeps only a file's base name; a browser's folder upload sends
    the relative path, so build that body by hand."""
    boundary = "ragsiteboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return api.client.post(
        "/api/v1/files",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=api.headers,
    )


def test_upload_with_folder_path_makes_folders(api) -> None:
    (file,) = assert_ok(raw_multipart_upload(api, "docs/2024/a.txt", b"alpha"))
    assert file["name"] == "a.txt"
    ancestors = assert_ok(api.get(f"/api/v1/files/{file['id']}/ancestors"))["parent_folders"]
    assert [f["name"] for f in ancestors] == ["a.txt", "2024", "docs", "/"]
    # The folders are reused, and a path cannot climb out of its parent.
    (second,) = assert_ok(raw_multipart_upload(api, "docs/../2024/b.txt", b"beta"))
    assert second["parent_id"] == ancestors[1]["id"]
    assert File.objects.filter(name="docs").count() == 1


def test_create_folder_and_virtual_file_and_list_inside(api) -> None:
    folder = mkdir(api, "  Reports  ")
    assert folder["name"] == "Reports" and folder["type"] == "folder"
    virtual = assert_ok(api.post("/api/v1/files", {"name": "note", "parent_id": folder["id"]}))
    assert virtual["type"] == "virtual" and virtual["parent_id"] == folder["id"]
    (inner,) = assert_ok(upload(api, ("x.txt", b"12345"), parent_id=folder["id"]))
    sub = mkdir(api, "sub", folder["id"])
    listing = assert_ok(api.get("/api/v1/files", {"parent_id": folder["id"]}))
    assert listing["total"] == 3 and listing["parent_folder"]["name"] == "/"
    root_listing = assert_ok(api.get("/api/v1/files"))
    (entry,) = [f for f in root_listing["files"] if f["id"] == folder["id"]]
    assert entry["size"] == 5 and entry["has_child_folder"] is True and entry["kbs_info"] == []
    assert inner["parent_id"] == folder["id"] and sub["parent_id"] == folder["id"]
    assert_error(
        api.post("/api/v1/files", {"name": "Reports", "type": "folder"}),
        RetCode.DATA_ERROR,
        "Duplicated folder name in the same folder.",
    )


def test_list_paging_order_and_keywords_search_the_subtree(api) -> None:
    folder = mkdir(api, "deep")
    assert_ok(upload(api, ("report-1.txt", b"1"), ("other.txt", b"2")))
    assert_ok(upload(api, ("report-2.txt", b"3"), parent_id=folder["id"]))
    found = assert_ok(api.get("/api/v1/files", {"keywords": "REPORT"}))
    assert found["total"] == 2
    assert {f["name"] for f in found["files"]} == {"report-1.txt", "report-2.txt"}
    page = assert_ok(api.get("/api/v1/files", {"page": 2, "page_size": 2, "orderby": "name"}))
    assert page["total"] == 3 and [f["name"] for f in page["files"]] == ["deep"]
    asc = assert_ok(api.get("/api/v1/files", {"orderby": "name", "desc": "false"}))
    assert [f["name"] for f in asc["files"]] == ["deep", "other.txt", "report-1.txt"]


def test_list_bad_input(api) -> None:
    assert_error(api.get("/api/v1/files", {"bogus": "1"}), RetCode.ARGUMENT_ERROR, "bogus")
    assert_error(api.get("/api/v1/files", {"page": "x"}), RetCode.ARGUMENT_ERROR, "page")
    assert_error(api.get("/api/v1/files", {"page_size": "0"}), RetCode.ARGUMENT_ERROR)
    assert_error(api.get("/api/v1/files", {"orderby": "nope"}), RetCode.ARGUMENT_ERROR, "orderby")
    assert_error(
        api.get("/api/v1/files", {"parent_id": "0" * 32}), RetCode.DATA_ERROR, "Folder not found!"
    )


def test_upload_bad_input(api, settings) -> None:
    response = api.client.post("/api/v1/files", {"parent_id": "x"}, headers=api.headers)
    assert_error(response, RetCode.ARGUMENT_ERROR, "No file part!")
    assert_error(upload(api, ("empty.txt", b"")), RetCode.ARGUMENT_ERROR, "empty")
    assert_error(
        upload(api, ("a.txt", b"x"), parent_id="0" * 32),
        RetCode.DATA_ERROR,
        "Can't find this folder!",
    )
    settings.RAGSITE_MAX_UPLOAD_BYTES = 1000
    assert_error(upload(api, ("big.txt", b"x" * 5000)), RetCode.ARGUMENT_ERROR, "larger than")
    assert not File.objects.exclude(name="/").exists()
    assert stored_objects() == []


def test_create_bad_input(api) -> None:
    assert_error(
        api.post("/api/v1/files", {"name": "x", "bogus": 1}),
        RetCode.ARGUMENT_ERROR,
        "Extra inputs are not permitted",
    )
    assert_error(api.post("/api/v1/files", {"name": "   "}), RetCode.ARGUMENT_ERROR, "name")
    assert_error(api.post("/api/v1/files", {"parent_id": "x"}), RetCode.ARGUMENT_ERROR, "name")
    assert_error(api.post("/api/v1/files", {"name": 5}), RetCode.ARGUMENT_ERROR, "name")
    response = api.client.post(
        "/api/v1/files", "name=x", content_type="text/plain", headers=api.headers
    )
    assert_error(response, RetCode.ARGUMENT_ERROR, "Unsupported content type")
    assert_error(
        api.post("/api/v1/files", {"name": "x", "parent_id": "0" * 32}),
        RetCode.DATA_ERROR,
        "Parent Folder Doesn't Exist!",
    )


def test_parent_and_ancestors(api) -> None:
    outer = mkdir(api, "outer")
    inner = mkdir(api, "inner", outer["id"])
    parent = assert_ok(api.get(f"/api/v1/files/{inner['id']}/parent"))["parent_folder"]
    assert parent["id"] == outer["id"]
    chain = assert_ok(api.get(f"/api/v1/files/{inner['id']}/ancestors"))["parent_folders"]
    assert [f["name"] for f in chain] == ["inner", "outer", "/"]
    root = chain[-1]
    assert (
        assert_ok(api.get(f"/api/v1/files/{root['id']}/parent"))["parent_folder"]["id"]
        == (root["id"])
    )
    for path in ("parent", "ancestors"):
        assert_error(
            api.get(f"/api/v1/files/{'0' * 32}/{path}"), RetCode.DATA_ERROR, "Folder not found!"
        )


def test_download_errors(api) -> None:
    folder = mkdir(api, "f")
    assert_error(api.get(f"/api/v1/files/{'0' * 32}"), RetCode.DATA_ERROR, "document not found")
    assert_error(
        api.get(f"/api/v1/files/{folder['id']}"), RetCode.DATA_ERROR, "This file is empty."
    )


# --- move and rename ---------------------------------------------------------------------------


def test_move_rename_and_their_errors(api, afile) -> None:
    folder = mkdir(api, "dest")
    sub = mkdir(api, "sub", folder["id"])
    move = "/api/v1/files/move"
    assert assert_ok(api.post(move, {"src_file_ids": [afile["id"]], "dest_file_id": sub["id"]}))
    assert File.objects.get(pk=afile["id"]).parent_id == sub["id"]
    assert assert_ok(api.post(move, {"src_file_ids": [afile["id"]], "new_name": "renamed.txt"}))
    assert File.objects.get(pk=afile["id"]).name == "renamed.txt"
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "new_name": "renamed.pdf"}),
        RetCode.DATA_ERROR,
        "The extension of file can't be changed",
    )
    assert_error(
        api.post(move, {"src_file_ids": [folder["id"]], "dest_file_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "Cannot move a folder to itself.",
    )
    assert_error(
        api.post(move, {"src_file_ids": [folder["id"]], "dest_file_id": sub["id"]}),
        RetCode.DATA_ERROR,
        "Cannot move a folder into its own subfolder.",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]]}),
        RetCode.ARGUMENT_ERROR,
        "Value error, At least one of dest_file_id or new_name must be provided",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"], sub["id"]], "new_name": "x.txt"}),
        RetCode.ARGUMENT_ERROR,
        "Value error, new_name can only be used with a single file",
    )
    assert_error(api.post(move, {"src_file_ids": []}), RetCode.ARGUMENT_ERROR, "src_file_ids")
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "dest_file_id": sub["id"], "x": 1}),
        RetCode.ARGUMENT_ERROR,
        "Extra inputs are not permitted",
    )
    assert_error(
        api.post(move, {"src_file_ids": ["0" * 32], "dest_file_id": sub["id"]}),
        RetCode.DATA_ERROR,
        "Source files not found!",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"], "0" * 32], "dest_file_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "File or folder not found!",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "dest_file_id": "0" * 32}),
        RetCode.DATA_ERROR,
        "Parent folder not found!",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "dest_file_id": afile["id"]}),
        RetCode.DATA_ERROR,
        "Parent folder not found!",
    )
    (twin,) = assert_ok(upload(api, ("twin.txt", b"t"), parent_id=sub["id"]))
    assert_error(
        api.post(move, {"src_file_ids": [twin["id"]], "new_name": "renamed.txt"}),
        RetCode.DATA_ERROR,
        "Duplicated file name in the same folder.",
    )
    # The folder tree is unchanged by every refused move.
    assert File.objects.get(pk=folder["id"]).parent_id != sub["id"]


def test_moving_a_folder_next_to_its_namesake_merges_them(api) -> None:
    a = mkdir(api, "a")
    b = mkdir(api, "b")
    inner_a = mkdir(api, "same", a["id"])
    inner_b = mkdir(api, "same", b["id"])
    (x,) = assert_ok(upload(api, ("x.txt", b"x"), parent_id=inner_a["id"]))
    assert_ok(
        api.post("/api/v1/files/move", {"src_file_ids": [inner_a["id"]], "dest_file_id": b["id"]})
    )
    assert not File.objects.filter(pk=inner_a["id"]).exists()
    assert File.objects.get(pk=x["id"]).parent_id == inner_b["id"]


# --- delete ------------------------------------------------------------------------------------


def test_delete_files_and_folders(api, committed) -> None:
    folder = mkdir(api, "f")
    sub = mkdir(api, "s", folder["id"])
    assert_ok(upload(api, ("a.txt", b"a"), parent_id=sub["id"]))
    (loose,) = assert_ok(upload(api, ("b.txt", b"b")))
    assert len(stored_objects()) == 2
    with committed():
        data = assert_ok(api.delete("/api/v1/files", {"ids": [folder["id"], loose["id"]]}))
    assert data == {"success_count": 4}
    assert stored_objects() == []
    assert assert_ok(api.get("/api/v1/files"))["total"] == 0


def test_delete_partial_and_bad_input(api, afile) -> None:
    body = body_of(api.delete("/api/v1/files", {"ids": [afile["id"], "0" * 32]}))
    assert body["code"] == RetCode.DATA_ERROR
    assert body["message"] == "Partially deleted 1 files with 1 errors"
    assert body["data"] == {
        "success_count": 1,
        "errors": [f"File or Folder not found: {'0' * 32}"],
    }
    body = body_of(api.delete("/api/v1/files", {"ids": ["0" * 32]}))
    assert body["message"] == "Deleted files failed with 1 errors"
    assert_error(api.delete("/api/v1/files", {"ids": []}), RetCode.ARGUMENT_ERROR, "ids")
    assert_error(
        api.delete("/api/v1/files", {"file_ids": ["x"]}),
        RetCode.ARGUMENT_ERROR,
        "Extra inputs are not permitted",
    )
    assert_error(api.delete("/api/v1/files", {"ids": "abc"}), RetCode.ARGUMENT_ERROR, "ids")
    root = assert_ok(api.get("/api/v1/files"))["parent_folder"]
    body = body_of(api.delete("/api/v1/files", {"ids": [root["id"]]}))
    assert body["code"] == RetCode.DATA_ERROR and "root folder" in body["data"]["errors"][0]


# --- link to datasets: one stored object ---------------------------------------------------------


def test_link_shares_the_bytes_and_download_returns_them(api, afile, dataset, committed) -> None:
    other = assert_ok(api.post("/api/v1/datasets", {"name": "kb2"}))
    assert len(stored_objects()) == 1
    assert (
        assert_ok(
            api.post(
                "/api/v1/files/link-to-datasets",
                {"file_ids": [afile["id"]], "kb_ids": [dataset["id"], other["id"]]},
            )
        )
        is True
    )
    assert len(stored_objects()) == 1  # no copy
    documents = Document.objects.filter(file_link__file_id=afile["id"])
    assert documents.count() == 2
    assert {d.location for d in documents} == {File.objects.get(pk=afile["id"]).location}
    for ds in (dataset, other):
        (doc,) = assert_ok(api.get(f"/api/v1/datasets/{ds['id']}/documents"))["docs"]
        assert doc["name"] == "facts.txt" and doc["size"] == len(TEXT) and doc["run"] == "UNSTART"
        response = api.get(f"/api/v1/datasets/{ds['id']}/documents/{doc['id']}")
        assert b"".join(response.streaming_content) == TEXT
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset['id']}"))  # still there
    listing = assert_ok(api.get("/api/v1/files"))
    assert {k["kb_name"] for k in listing["files"][0]["kbs_info"]} == {"kb", "kb2"}

    # Deleting one document keeps the bytes the file and the other document use.
    (doc,) = assert_ok(api.get(f"/api/v1/datasets/{dataset['id']}/documents"))["docs"]
    with committed() as callbacks:
        assert_ok(api.delete(f"/api/v1/datasets/{dataset['id']}/documents", {"ids": [doc["id"]]}))
    assert callbacks and len(stored_objects()) == 1
    # Deleting the other dataset keeps them too.
    with committed() as callbacks:
        assert_ok(api.delete("/api/v1/datasets", {"ids": [other["id"]]}))
    assert callbacks and len(stored_objects()) == 1
    response = api.get(f"/api/v1/files/{afile['id']}")
    assert b"".join(response.streaming_content) == TEXT


def test_deleting_a_linked_file_deletes_its_documents(api, afile, dataset, committed) -> None:
    link = "/api/v1/files/link-to-datasets"
    assert_ok(api.post(link, {"file_ids": [afile["id"]], "kb_ids": [dataset["id"]]}))
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset['id']}"))["document_count"] == 1
    with committed():
        assert_ok(api.delete("/api/v1/files", {"ids": [afile["id"]]}))
    assert not Document.objects.filter(dataset_id=dataset["id"]).exists()
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset['id']}"))["document_count"] == 0
    assert stored_objects() == []


def test_link_modes_folders_and_rename(api, dataset) -> None:
    folder = mkdir(api, "f")
    assert_ok(upload(api, ("a.txt", b"aaa"), ("b.txt", b"bbb"), parent_id=folder["id"]))
    link = "/api/v1/files/link-to-datasets"
    assert_ok(api.post(link, {"file_ids": [folder["id"]], "kb_ids": [dataset["id"]]}))
    assert Document.objects.filter(dataset_id=dataset["id"]).count() == 2
    # replace (the default): the old links go, new ones come; add: nothing doubles.
    assert_ok(api.post(link, {"file_ids": [folder["id"]], "kb_ids": [dataset["id"]]}))
    assert Document.objects.filter(dataset_id=dataset["id"]).count() == 2
    assert_ok(api.post(link + "?mode=add", {"file_ids": [folder["id"]], "kb_ids": [dataset["id"]]}))
    assert Document.objects.filter(dataset_id=dataset["id"]).count() == 2
    assert FileLink.objects.count() == 2
    a = File.objects.get(name="a.txt")
    assert_ok(api.post("/api/v1/files/move", {"src_file_ids": [a.pk], "new_name": "z.txt"}))
    assert Document.objects.filter(dataset_id=dataset["id"], name="z.txt").exists()


def test_link_errors(api, afile, dataset) -> None:
    link = "/api/v1/files/link-to-datasets"
    assert_error(api.post(link, {"file_ids": [afile["id"]]}), RetCode.ARGUMENT_ERROR, "kb_ids")
    assert_error(
        api.post(link + "?mode=merge", {"file_ids": [afile["id"]], "kb_ids": [dataset["id"]]}),
        RetCode.ARGUMENT_ERROR,
        "mode must be 'add' or 'replace'",
    )
    assert_error(
        api.post(link, {"file_ids": ["0" * 32], "kb_ids": [dataset["id"]]}),
        RetCode.DATA_ERROR,
        "File not found!",
    )
    assert_error(
        api.post(link, {"file_ids": [afile["id"]], "kb_ids": ["0" * 32]}),
        RetCode.DATA_ERROR,
        "Can't find this dataset!",
    )
    assert_error(
        api.post(link, {"file_ids": afile["id"], "kb_ids": [dataset["id"]]}),
        RetCode.ARGUMENT_ERROR,
        "file_ids",
    )
    assert not Document.objects.exists()


# --- tenancy: another user's ids are refused on every route --------------------------------------


def test_foreign_ids_are_refused_everywhere(api, other_api, afile, dataset) -> None:
    folder = mkdir(api, "mine")
    theirs_folder = mkdir(other_api, "theirs")
    (theirs,) = assert_ok(upload(other_api, ("t.txt", b"their bytes")))
    their_ds = assert_ok(other_api.post("/api/v1/datasets", {"name": "their kb"}))
    no = "no authorization"

    assert_error(other_api.get(f"/api/v1/files/{afile['id']}"), RetCode.DATA_ERROR, no)
    assert_error(other_api.get(f"/api/v1/files/{afile['id']}/parent"), RetCode.DATA_ERROR, no)
    assert_error(other_api.get(f"/api/v1/files/{afile['id']}/ancestors"), RetCode.DATA_ERROR, no)
    assert_error(
        other_api.get("/api/v1/files", {"parent_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "Folder not found!",
    )
    assert_error(
        upload(other_api, ("x.txt", b"x"), parent_id=folder["id"]),
        RetCode.DATA_ERROR,
        "Can't find this folder!",
    )
    assert_error(
        other_api.post("/api/v1/files", {"name": "x", "parent_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "Parent Folder Doesn't Exist!",
    )
    body = body_of(other_api.delete("/api/v1/files", {"ids": [afile["id"], folder["id"]]}))
    assert body["code"] == RetCode.DATA_ERROR and body["data"]["success_count"] == 0
    assert body["data"]["errors"] == [
        f"No authorization for file {afile['id']}",
        f"No authorization for file {folder['id']}",
    ]
    move = "/api/v1/files/move"
    assert_error(
        other_api.post(move, {"src_file_ids": [afile["id"]], "dest_file_id": theirs_folder["id"]}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.post(move, {"src_file_ids": [afile["id"]], "new_name": "stolen.txt"}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.post(move, {"src_file_ids": [theirs["id"]], "dest_file_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "Parent folder not found!",
    )
    link = "/api/v1/files/link-to-datasets"
    assert_error(
        other_api.post(link, {"file_ids": [afile["id"]], "kb_ids": [their_ds["id"]]}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.post(link, {"file_ids": [theirs["id"]], "kb_ids": [dataset["id"]]}),
        RetCode.DATA_ERROR,
        no,
    )
    # Old paths too.
    assert_error(other_api.get(f"/api/v1/file/get/{afile['id']}"), RetCode.DATA_ERROR, no)
    assert_error(
        other_api.get("/api/v1/file/parent_folder", {"file_id": afile["id"]}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.get("/api/v1/file/all_parent_folder", {"file_id": afile["id"]}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.get("/api/v1/file/list", {"parent_id": folder["id"]}),
        RetCode.DATA_ERROR,
        "Folder not found!",
    )
    assert_error(
        other_api.post("/api/v1/file/rename", {"file_id": afile["id"], "name": "s.txt"}),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.post(
            "/api/v1/file/mv", {"src_file_ids": [afile["id"]], "dest_file_id": theirs_folder["id"]}
        ),
        RetCode.DATA_ERROR,
        no,
    )
    assert_error(
        other_api.post(
            "/api/v1/file/convert", {"file_ids": [afile["id"]], "kb_ids": [their_ds["id"]]}
        ),
        RetCode.DATA_ERROR,
        no,
    )
    assert body_of(other_api.post("/api/v1/file/rm", {"file_ids": [afile["id"]]}))["code"] == 102
    # Nothing of ours changed, and their listing shows none of our files.
    mine = File.objects.get(pk=afile["id"])
    assert mine.name == "facts.txt" and mine.parent_id == folder["parent_id"]
    assert not Document.objects.filter(dataset_id=dataset["id"]).exists()
    names = {f["name"] for f in assert_ok(other_api.get("/api/v1/files"))["files"]}
    assert names == {"theirs", "t.txt"}
    assert len(stored_objects()) == 2


# --- the old /api/v1/file/* paths (R8) -------------------------------------------------------------


def test_old_paths_keep_v022_shapes(api, api22, dataset) -> None:
    created = assert_ok(upload(api22, ("old.txt", b"old"), path="/api/v1/file/upload"))
    file_id = created[0]["id"]
    root = assert_ok(api22.get("/api/v1/file/root_folder"))
    assert root["root_folder"]["name"] == "/" and root["total"] == 1
    folder = assert_ok(api22.post("/api/v1/file/create", {"name": "dir", "type": "folder"}))
    assert folder["type"] == "folder"
    listing = assert_ok(api22.get("/api/v1/file/list", {"page_size": 15, "unknown": "ok"}))
    assert listing["total"] == 2
    assert (
        assert_ok(
            api22.post("/api/v1/file/mv", {"src_file_ids": [file_id], "dest_file_id": folder["id"]})
        )
        is True
    )
    assert assert_ok(api22.post("/api/v1/file/rename", {"file_id": file_id, "name": "new.txt"}))
    parent = assert_ok(api22.get("/api/v1/file/parent_folder", {"file_id": file_id}))
    assert parent["parent_folder"]["id"] == folder["id"]
    chain = assert_ok(api22.get("/api/v1/file/all_parent_folder", {"file_id": file_id}))
    assert [f["name"] for f in chain["parent_folders"]] == ["new.txt", "dir", "/"]
    rows = assert_ok(
        api22.post("/api/v1/file/convert", {"file_ids": [file_id], "kb_ids": [dataset["id"]]})
    )
    assert len(rows) == 1 and rows[0]["file_id"] == file_id
    assert Document.objects.get(pk=rows[0]["document_id"]).name == "new.txt"
    response = api22.get(f"/api/v1/file/get/{file_id}")
    assert b"".join(response.streaming_content) == b"old"
    assert assert_ok(api22.post("/api/v1/file/rm", {"file_ids": [folder["id"]]})) is True
    assert not File.objects.filter(pk=file_id).exists()
    assert not Document.objects.exists()
    # v0.27 clients may send `ids` on the old path.
    (again,) = assert_ok(upload(api, ("x.txt", b"x"), path="/api/v1/file/upload"))
    assert assert_ok(api.post("/api/v1/file/rm", {"ids": [again["id"]]})) is True


def test_old_path_errors_speak_the_clients_generation(api, api22) -> None:
    for client in (api, api22):
        assert_error(
            client.get("/api/v1/file/parent_folder"),
            RetCode.DATA_ERROR,
            "`file_id` query parameter is required",
        )
        assert_error(
            client.get("/api/v1/file/all_parent_folder"),
            RetCode.DATA_ERROR,
            "`file_id` query parameter is required",
        )
    mkdir(api, "dup")
    assert_error(
        api22.post("/api/v1/file/create", {"name": "dup", "type": "folder"}),
        RetCode.CONFLICT,
        "Duplicated folder name in the same folder.",
    )
    assert_error(
        api.post("/api/v1/file/create", {"name": "dup", "type": "folder"}),
        RetCode.DATA_ERROR,
        "Duplicated folder name in the same folder.",
    )
    assert_error(api22.get(f"/api/v1/file/get/{'0' * 32}"), RetCode.NOT_FOUND, "document not found")
    assert_error(
        api22.post("/api/v1/file/rename", {"file_id": "x"}), RetCode.ARGUMENT_ERROR, "name"
    )
    assert_error(api22.post("/api/v1/file/rm", {}), RetCode.ARGUMENT_ERROR, "ids")
    assert_error(
        api22.post("/api/v1/file/convert", {"kb_ids": []}), RetCode.ARGUMENT_ERROR, "file_ids"
    )
    # New paths answer v0.27's codes to every client.
    assert_error(
        api22.post("/api/v1/files", {"name": "dup", "type": "folder"}),
        RetCode.DATA_ERROR,
        "Duplicated folder name in the same folder.",
    )


def test_unauthenticated_requests_are_refused(client) -> None:
    for path in ("/api/v1/files", "/api/v1/file/list", f"/api/v1/files/{'0' * 32}"):
        body = client.get(path).json()
        assert not body.get("data"), body


def test_root_folder_is_made_once(api, tenant) -> None:
    for _ in range(3):
        assert_ok(api.get("/api/v1/files"))
    assert File.objects.filter(tenant=tenant, name="/").count() == 1


# --- POST /documents/upload: runtime attachments ----------------------------------------------------


def test_attachment_upload_one_and_several(api) -> None:
    data = assert_ok(upload(api, ("note.txt", b"hello"), path="/api/v1/documents/upload"))
    assert set(data) == {
        "id", "name", "size", "extension", "mime_type", "created_by", "created_at", "preview_url"
    }  # fmt: skip
    assert data["name"] == "note.txt" and data["size"] == 5 and data["extension"] == "txt"
    assert data["mime_type"] == "text/plain" and data["preview_url"] is None
    assert isinstance(data["created_at"], float)
    several = assert_ok(
        upload(api, ("a.txt", b"a"), ("b.pdf", b"%PDF-1.4"), path="/api/v1/file/upload_info")
    )
    assert [d["name"] for d in several] == ["a.txt", "b.pdf"]
    # Stored, owned, and kept out of the folder tree and the file routes.
    assert File.attachments.count() == 3 and len(stored_objects()) == 3
    assert assert_ok(api.get("/api/v1/files"))["total"] == 0
    assert_error(api.get(f"/api/v1/files/{data['id']}"), RetCode.DATA_ERROR, "document not found")
    body = body_of(api.delete("/api/v1/files", {"ids": [data["id"]]}))
    assert body["code"] == RetCode.DATA_ERROR and File.attachments.count() == 3


def test_attachment_upload_bad_input(api, settings) -> None:
    path = "/api/v1/documents/upload"
    assert_error(
        api.client.post(path, {}, headers=api.headers),
        RetCode.ARGUMENT_ERROR,
        "Missing input: provide multipart file(s) or url",
    )
    assert_error(
        upload(api, ("a.txt", b"a"), path=path + "?url=https://example.com/"),
        RetCode.ARGUMENT_ERROR,
        "Provide either multipart file(s) or ?url=..., not both.",
    )
    for url, message in (
        ("ftp://example.com/x", "Disallowed URL scheme"),
        ("http://127.0.0.1:8000/admin", "non-public address"),
        ("http://localhost/", "non-public address"),
        ("http:///nohost", "URL is missing a host."),
    ):
        response = api.client.post(f"{path}?url={url}", headers=api.headers)
        assert_error(response, RetCode.ARGUMENT_ERROR, message)
    assert_error(upload(api, ("empty.txt", b""), path=path), RetCode.ARGUMENT_ERROR, "empty")
    settings.RAGSITE_MAX_UPLOAD_BYTES = 1000
    assert_error(upload(api, ("big.txt", b"x" * 5000), path=path), RetCode.ARGUMENT_ERROR)
    assert not File.attachments.exists() and stored_objects() == []


def test_odd_ids_and_names_never_break(api, afile, dataset) -> None:
    long_id = "f" * 5000
    assert_error(api.get(f"/api/v1/files/{long_id}"), RetCode.DATA_ERROR, "document not found")
    assert_error(api.get(f"/api/v1/files/{long_id}/ancestors"), RetCode.DATA_ERROR)
    assert_error(api.delete("/api/v1/files", {"ids": [1, None]}), RetCode.ARGUMENT_ERROR, "ids")
    move = "/api/v1/files/move"
    assert_error(api.post(move, {"src_file_ids": [5], "new_name": "x.txt"}), RetCode.ARGUMENT_ERROR)
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "new_name": "a/b.txt"}),
        RetCode.ARGUMENT_ERROR,
        "/",
    )
    assert_error(
        api.post(move, {"src_file_ids": [afile["id"]], "new_name": "x" * 300 + ".txt"}),
        RetCode.ARGUMENT_ERROR,
    )
    assert_error(
        api.post("/api/v1/files/link-to-datasets", {"file_ids": [afile["id"]], "kb_ids": [{}]}),
        RetCode.ARGUMENT_ERROR,
        "kb_ids",
    )
    assert_error(api.get("/api/v1/files", {"desc": "maybe"}), RetCode.ARGUMENT_ERROR, "desc")
    assert_error(api.get("/api/v1/files", {"page": "99999999999999"}), RetCode.ARGUMENT_ERROR)
    assert_error(
        api.post("/api/v1/files", {"name": "x", "parent_id": afile["id"]}),
        RetCode.DATA_ERROR,
        "Parent Folder Doesn't Exist!",
    )
    root = assert_ok(api.get("/api/v1/files"))["parent_folder"]
    assert_error(
        api.post(move, {"src_file_ids": [root["id"]], "new_name": "r"}),
        RetCode.DATA_ERROR,
        "root folder",
    )
    assert File.objects.get(pk=afile["id"]).name == "facts.txt"
