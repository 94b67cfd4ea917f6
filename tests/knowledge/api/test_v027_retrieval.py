"""POST /api/v1/retrieval in both generations: v0.27's `use_kg`, `toc_enhance` and
`metadata_condition.logic`, and the highlight default that differs (G8)."""

from __future__ import annotations

import io

import pytest

from knowledge.models import Document
from tests.helpers import assert_ok


def upload(api, dataset_id, name) -> dict:
    part = io.BytesIO(b"placeholder")
    part.name = name
    (doc,) = assert_ok(
        api.client.post(
            f"/api/v1/datasets/{dataset_id}/documents", {"file": [part]}, headers=api.headers
        )
    )
    return doc


@pytest.fixture
def dataset(api) -> dict:
    return assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))


def add(api, dataset, doc, content) -> dict:
    url = f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks"
    return assert_ok(api.post(url, {"content": content}))["chunk"]


def retrieve(client, dataset, question, **extra) -> dict:
    body = {"question": question, "dataset_ids": [dataset["id"]], **extra}
    return assert_ok(client.post("/api/v1/retrieval", body))


def test_sdk_027_body_is_accepted(api, dataset) -> None:
    doc = upload(api, dataset["id"], "a.txt")
    chunk = add(api, dataset, doc, "fog signal at dawn")
    # ragflow-sdk 0.27.3 always sends these.
    extra = {"use_kg": False, "toc_enhance": False, "keyword": False, "cross_languages": None,
             "metadata_condition": None, "rerank_id": None}  # fmt: skip
    data = retrieve(api, dataset, "fog signal", **extra)
    assert [c["id"] for c in data["chunks"]] == [chunk["id"]]
    assert retrieve(api, dataset, "fog signal", use_kg=True, toc_enhance=True)["total"] == 1


def test_highlight_default_follows_the_generation(api, api22, dataset) -> None:
    doc = upload(api, dataset["id"], "a.txt")
    add(api, dataset, doc, "fog signal at dawn")
    assert "<em>" in retrieve(api22, dataset, "fog signal")["chunks"][0]["highlight"]
    assert "<em>" not in retrieve(api, dataset, "fog signal")["chunks"][0]["highlight"]
    assert (
        "<em>" in retrieve(api, dataset, "fog signal", highlight="true")["chunks"][0]["highlight"]
    )
    assert (
        "<em>"
        not in retrieve(api22, dataset, "fog signal", highlight=False)["chunks"][0]["highlight"]
    )


def test_metadata_condition_logic_or(api, dataset) -> None:
    ann, bob, zed = (upload(api, dataset["id"], f"{n}.txt") for n in ("ann", "bob", "zed"))
    Document.objects.filter(pk=ann["id"]).update(meta_fields={"author": "Ann"})
    Document.objects.filter(pk=bob["id"]).update(meta_fields={"author": "Bob"})
    ids = {d["id"]: add(api, dataset, d, f"fog signal by {n}")["id"]
           for d, n in ((ann, "ann"), (bob, "bob"), (zed, "zed"))}  # fmt: skip
    conditions = [
        {"name": "author", "comparison_operator": "is", "value": "Ann"},
        {"name": "author", "comparison_operator": "is", "value": "Bob"},
    ]
    either = retrieve(
        api, dataset, "fog signal", metadata_condition={"logic": "or", "conditions": conditions}
    )
    assert {c["id"] for c in either["chunks"]} == {ids[ann["id"]], ids[bob["id"]]}
    both = retrieve(api, dataset, "fog signal", metadata_condition={"conditions": conditions})
    assert (both["total"], both["chunks"]) == (0, [])
