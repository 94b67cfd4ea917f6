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


# --- GET one chunk ------------------------------------------------------------------------------------


def test_get_one_chunk_under_internal_names(api, api22, other_api, dataset, doc) -> None:
    chunk = add(
        api, dataset, doc, "walrus census", important_keywords=["walrus"], tag_kwd=["fauna"]
    )
    for client in (api, api22):
        data = assert_ok(client.get(f"{chunks_url(dataset, doc)}/{chunk['id']}"))
        assert data["id"] == chunk["id"] and data["content_with_weight"] == "walrus census"
        assert (data["doc_id"], data["kb_id"], data["docnm_kwd"]) == (
            doc["id"],
            dataset["id"],
            "notes.txt",
        )
        assert data["important_kwd"] == ["walrus"] and data["tag_kwd"] == ["fauna"]
        assert data["available_int"] == 1 and data["doc_type_kwd"] == "text"
        assert not {"content_ltks", "embedding", "q_384_vec"} & set(data)
    other = upload(api, dataset["id"], "other.txt", b"x")
    assert body_of(api.get(f"{chunks_url(dataset, other)}/{chunk['id']}")) == {
        "code": RetCode.DATA_ERROR,
        "message": "Chunk not found!",
    }
    assert_error(
        api.get(f"{chunks_url(dataset, {'id': 'ghost'})}/{chunk['id']}"),
        RetCode.DATA_ERROR,
        "you don't own the document ghost",
    )
    assert_error(other_api.get(f"{chunks_url(dataset, doc)}/{chunk['id']}"), RetCode.DATA_ERROR)


# --- PATCH …/chunks: availability ---------------------------------------------------------------


def test_availability_switch(api, dataset, doc) -> None:
    one, two = add(api, dataset, doc, "one"), add(api, dataset, doc, "two")
    url = chunks_url(dataset, doc)
    assert assert_ok(api.patch(url, {"chunk_ids": [one["id"]], "available_int": 0})) is True
    assert not Chunk.objects.get(pk=one["id"]).available
    # available_int wins over available.
    assert_ok(api.patch(url, {"chunk_ids": [one["id"]], "available_int": 1, "available": False}))
    assert Chunk.objects.get(pk=one["id"]).available
    assert_ok(api.patch(url, {"chunk_ids": [one["id"], two["id"]], "available": False}))
    assert not Chunk.objects.filter(available=True).exists()
    assert_error(
        api.patch(url, {"available": True}), RetCode.DATA_ERROR, "`chunk_ids` is required."
    )
    assert_error(
        api.patch(url, {"chunk_ids": [one["id"]]}),
        RetCode.DATA_ERROR,
        "`available_int` or `available` is required.",
    )
    assert_error(
        api.patch(chunks_url(dataset, {"id": "ghost"}), {"chunk_ids": ["x"], "available": True}),
        RetCode.DATA_ERROR,
        "document not found",
    )


# --- list filters and texts -----------------------------------------------------------------------


def test_list_by_chunk_ids_and_availability(api, api22, dataset, doc) -> None:
    one, two, three = (add(api, dataset, doc, text) for text in ("one", "two", "three"))
    url = chunks_url(dataset, doc)
    assert_ok(api.patch(url, {"chunk_ids": [two["id"]], "available": False}))

    def ids(client, **params) -> set[str]:
        return {c["id"] for c in assert_ok(client.get(url, params))["chunks"]}

    for client in (api, api22):
        assert ids(client, chunk_ids=[one["id"], two["id"]]) == {one["id"], two["id"]}
        assert ids(client, chunk_ids=f"{one['id']},{three['id']}") == {one["id"], three["id"]}
        assert ids(client, available="true") == {one["id"], three["id"]}
        assert ids(client, available="false") == {two["id"]}
    item = assert_ok(api.get(url, {"chunk_ids": [one["id"]]}))["chunks"][0]
    assert item["tag_kwd"] == [] and item["doc_type_kwd"] == "text" and item["image_id"] == ""


def test_an_unknown_chunk_id_in_the_list_is_404_in_v022_and_102_in_v027(
    api, api22, dataset, doc
) -> None:
    message = f"Chunk not found: {dataset['id']}/nope"
    assert_error(api.get(chunks_url(dataset, doc), {"id": "nope"}), RetCode.DATA_ERROR, message)
    assert_error(api22.get(chunks_url(dataset, doc), {"id": "nope"}), RetCode.NOT_FOUND, message)


# --- add and update with tags and an image --------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_add_and_update_tags_and_images(api, dataset, doc) -> None:
    import base64

    image = "data:image/png;base64," + base64.b64encode(PNG).decode()
    chunk = add(
        api, dataset, doc, "walrus", tag_kwd=["fauna"], tag_feas={"fauna": 2}, image_base64=image
    )
    assert chunk["tag_kwd"] == ["fauna"] and chunk["doc_type_kwd"] == "image"
    assert chunk["image_id"] == f"{dataset['id']}-{chunk['id']}"
    stored = Chunk.objects.get(pk=chunk["id"])
    assert stored.tag_weights == {"fauna": 2.0}
    url = f"{chunks_url(dataset, doc)}/{chunk['id']}"
    assert_ok(api.patch(url, {"tag_kwd": ["sea"], "tag_feas": {"sea": 1}}))
    stored = Chunk.objects.get(pk=chunk["id"])
    assert (stored.tags, stored.tag_weights, stored.image_id) == (
        ["sea"],
        {"sea": 1.0},
        chunk["image_id"],
    )
    for body, message in [
        ({"tag_kwd": "x"}, "`tag_kwd` is required to be a list"),
        ({"image_base64": ""}, "`image_base64` must be a non-empty string"),
        ({"image_base64": "@@@"}, "Invalid `image_base64`"),
        ({"tag_feas": {"a": "b"}}, "`tag_feas` should map each tag to a number."),
    ]:
        response = api.post(chunks_url(dataset, doc), {"content": "x", **body})
        assert_error(response, RetCode.DATA_ERROR, message)
