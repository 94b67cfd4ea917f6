"""Chunks in both RAGFlow API generations (v0.27 contract §2.3): PATCH next to PUT, one chunk
by id, the availability switch, delete_all, the new list filters and generation texts."""

from __future__ import annotations

import io

import pytest

from knowledge.models import Chunk, Dataset, Document
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of


def upload(api, dataset_id, name, content: bytes) -> dict:
    part = io.BytesIO(content)
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


@pytest.fixture
def doc(api, dataset) -> dict:
    return upload(api, dataset["id"], "notes.txt", b"placeholder")


def chunks_url(dataset: dict, doc: dict) -> str:
    return f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks"


def add(api, dataset, doc, content, **extra) -> dict:
    return assert_ok(api.post(chunks_url(dataset, doc), {"content": content, **extra}))["chunk"]


# --- PATCH (v0.27) and PUT (v0.22) update ----------------------------------------------------


def test_patch_updates_a_chunk_like_put(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "The walrus colony was counted", important_keywords=["walrus"])
    url = f"{chunks_url(dataset, doc)}/{chunk['id']}"
    assert body_of(api.patch(url, {"content": "sdfx... updated walrus note"}))["code"] == 0
    listed = assert_ok(api.get(chunks_url(dataset, doc), {"id": chunk["id"]}))["chunks"]
    assert listed[0]["content"] == "sdfx... updated walrus note"
    assert listed[0]["important_keywords"] == ["walrus"]
    assert_ok(api.put(url, {"important_keywords": ["seal"]}))
    assert Chunk.objects.get(pk=chunk["id"]).important_keywords == ["seal"]


def test_patch_refuses_a_blank_content(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "text")
    url = f"{chunks_url(dataset, doc)}/{chunk['id']}"
    assert_error(api.patch(url, {"content": "  "}), RetCode.DATA_ERROR, "`content` is required")


# --- DELETE with delete_all -----------------------------------------------------------------------


def test_delete_chunks_as_sdk_027_sends_it(api, dataset, doc) -> None:
    one = add(api, dataset, doc, "one")
    two = add(api, dataset, doc, "two")
    url = chunks_url(dataset, doc)
    assert_ok(api.delete(url, {"chunk_ids": [one["id"]], "delete_all": False}))
    assert list(Chunk.objects.values_list("pk", flat=True)) == [two["id"]]
    assert_ok(api.delete(url, {"chunk_ids": None, "delete_all": False}))
    assert_ok(api.delete(url, {"chunk_ids": [], "delete_all": False}))
    assert Chunk.objects.count() == 1
    assert_ok(api.delete(url, {"chunk_ids": None, "delete_all": True}))
    assert not Chunk.objects.exists()
    assert Document.objects.get(pk=doc["id"]).chunk_count == 0
    assert Dataset.objects.get(pk=dataset["id"]).chunk_count == 0
