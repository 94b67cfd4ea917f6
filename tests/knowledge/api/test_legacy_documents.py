"""Legacy Office uploads through the API: accepted, parsed through LibreOffice, and a file that
cannot be converted fails with its reason in the progress log (contract §3.3, §3.6)."""

from __future__ import annotations

import io
import shutil

import pytest

from tests.helpers import assert_ok
from tests.knowledge.parsing import builders

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="needs LibreOffice (make office-deps)")


def upload(api, dataset_id: str, *files: tuple[str, bytes]):
    parts = [io.BytesIO(content) for _, content in files]
    for part, (name, _) in zip(parts, files, strict=True):
        part.name = name
    return api.client.post(
        f"/api/v1/datasets/{dataset_id}/documents", {"file": parts}, headers=api.headers
    )


def test_doc_xls_ppt_upload_parse_and_a_damaged_doc_fails_readably(
    api, django_capture_on_commit_callbacks
) -> None:
    legacy = builders.legacy_office_files(SOFFICE or "soffice")
    dataset = assert_ok(api.post("/api/v1/datasets", {"name": "old files"}))
    damaged = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 20
    docs = assert_ok(
        upload(
            api,
            dataset["id"],
            ("handbook.doc", legacy["doc"]),
            ("sales.xls", legacy["xls"]),
            ("review.ppt", legacy["ppt"]),
            ("minutes.doc", damaged),
        )
    )
    by_name = {d["name"]: d for d in docs}
    assert by_name["review.ppt"]["chunk_method"] == "presentation"
    assert {d["type"] for d in docs} == {"doc"}
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(
            api.post(
                f"/api/v1/datasets/{dataset['id']}/documents/parse",
                {"document_ids": [d["id"] for d in docs]},
            )
        )
    listed = assert_ok(api.get(f"/api/v1/datasets/{dataset['id']}/documents"))["docs"]
    state = {d["name"]: d for d in listed}
    for name in ["handbook.doc", "sales.xls", "review.ppt"]:
        assert state[name]["run"] == "DONE", state[name]["progress_msg"]
        assert state[name]["chunk_count"] > 0
    chunks = assert_ok(
        api.get(f"/api/v1/datasets/{dataset['id']}/documents/{by_name['sales.xls']['id']}/chunks")
    )["chunks"]
    assert any("North" in c["content"] for c in chunks)
    failed = state["minutes.doc"]
    assert failed["run"] == "FAIL" and failed["progress"] == -1
    assert "LibreOffice could not convert minutes.doc to .docx" in failed["progress_msg"]
    assert "Traceback" not in failed["progress_msg"]


def test_a_wrong_legacy_file_is_refused_at_upload(api) -> None:
    dataset = assert_ok(api.post("/api/v1/datasets", {"name": "old files"}))
    response = upload(api, dataset["id"], ("deck.ppt", b"plain text pretending"))
    body = response.json()
    assert body["code"] != 0
    assert body["message"] == "deck.ppt is not a PowerPoint 97-2003 file (.ppt)."
