"""Chunk endpoints and retrieval on literal paths (contract §4), read-your-writes."""

from __future__ import annotations

import io

import pytest

from knowledge.models import Chunk, Dataset, Document, TermStat
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


def retrieve(api, dataset, question, **extra) -> dict:
    return assert_ok(
        api.post(
            "/api/v1/retrieval", {"question": question, "dataset_ids": [dataset["id"]], **extra}
        )
    )


# --- add ----------------------------------------------------------------------------------------


def test_add_returns_the_add_shape(api, dataset, doc) -> None:
    chunk = add(
        api,
        dataset,
        doc,
        "This is a chunk addition test",
        important_keywords=["addition"],
        questions=[" what? ", ""],
    )
    assert set(chunk) == {
        "id",
        "content",
        "document_id",
        "dataset_id",
        "important_keywords",
        "questions",
        "tag_kwd",
        "image_id",
        "doc_type_kwd",
        "create_time",
        "create_timestamp",
    }
    assert len(chunk["id"]) == 16 and chunk["content"] == "This is a chunk addition test"
    assert chunk["document_id"] == doc["id"] and chunk["dataset_id"] == dataset["id"]
    assert chunk["important_keywords"] == ["addition"] and chunk["questions"] == ["what?"]
    assert len(chunk["create_time"]) == 19 and isinstance(chunk["create_timestamp"], float)


def test_add_is_read_your_writes(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "The lighthouse fog signal sounded at dawn")
    listed = assert_ok(api.get(chunks_url(dataset, doc)))
    assert [c["id"] for c in listed["chunks"]] == [chunk["id"]]
    assert listed["doc"]["chunk_count"] == 1 and listed["total"] == 1
    hits = retrieve(api, dataset, "lighthouse fog signal")
    assert hits["chunks"][0]["id"] == chunk["id"]
    assert body_of(api.delete(chunks_url(dataset, doc), {"chunk_ids": [chunk["id"]]})) == {
        "code": 0
    }
    assert assert_ok(api.get(chunks_url(dataset, doc)))["chunks"] == []
    assert retrieve(api, dataset, "lighthouse fog signal")["chunks"] == []


def test_counters_stay_exact(api, dataset, doc) -> None:
    first = add(api, dataset, doc, "alpha beta")
    add(api, dataset, doc, "alpha beta")  # same content, same id: replaced, not duplicated
    add(api, dataset, doc, "gamma delta")
    assert Document.objects.get(pk=doc["id"]).chunk_count == 2 == Chunk.objects.count()
    assert Dataset.objects.get(pk=dataset["id"]).chunk_count == 2
    assert TermStat.objects.get(dataset_id=dataset["id"], term="alpha").df == 1
    assert_ok(api.delete(chunks_url(dataset, doc), {"chunk_ids": [first["id"]]}))
    assert Dataset.objects.get(pk=dataset["id"]).chunk_count == 1
    assert not TermStat.objects.filter(dataset_id=dataset["id"], term="alpha").exists()


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, RetCode.DATA_ERROR, "`content` is required"),
        ({"content": "   "}, RetCode.DATA_ERROR, "`content` is required"),
        ({"content": None}, RetCode.DATA_ERROR, "`content` is required"),
        (
            {"content": "x", "important_keywords": "a"},
            RetCode.DATA_ERROR,
            "`important_keywords` is required to be a list",
        ),
        (
            {"content": "x", "questions": "a"},
            RetCode.DATA_ERROR,
            "`questions` is required to be a list",
        ),
        (
            {"content": "x", "important_keywords": [1]},
            RetCode.DATA_ERROR,
            "`important_keywords` should be a list of strings (item 0 is a int).",
        ),
    ],
)
def test_add_validates(api, dataset, doc, body, code, message) -> None:
    assert_error(api.post(chunks_url(dataset, doc), body), code, message)


def test_add_to_foreign_or_unknown_targets(api, other_api, dataset, doc) -> None:
    assert_error(
        other_api.post(chunks_url(dataset, doc), {"content": "x"}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {dataset['id']}.",
    )
    ghost = {"id": "ghost"}
    assert_error(
        api.post(chunks_url(dataset, ghost), {"content": "x"}),
        RetCode.DATA_ERROR,
        "You don't own the document ghost.",
    )


# --- list ---------------------------------------------------------------------------------------


def test_list_by_keywords_highlights(api, dataset, doc) -> None:
    wanted = add(
        api, dataset, doc, "This is a chunk addition test", important_keywords=["addition"]
    )
    add(api, dataset, doc, "Something unrelated about walruses")
    data = assert_ok(
        api.get(chunks_url(dataset, doc), {"keywords": "addition", "page": 1, "page_size": 12})
    )
    assert [c["id"] for c in data["chunks"]] == [wanted["id"]]
    assert data["chunks"][0]["content"] == "This is a chunk <em>addition</em> test"
    item = data["chunks"][0]
    assert item["docnm_kwd"] == "notes.txt" and item["available"] is True and item["image_id"] == ""


def test_list_by_id_and_paging(api, dataset, doc) -> None:
    ids = [add(api, dataset, doc, f"passage number {i}")["id"] for i in range(5)]
    assert [
        c["id"]
        for c in assert_ok(api.get(chunks_url(dataset, doc), {"page": 2, "page_size": 2}))["chunks"]
    ] == ids[2:4]
    assert assert_ok(api.get(chunks_url(dataset, doc), {"id": ids[3]}))["chunks"][0]["id"] == ids[3]
    assert_error(
        api.get(chunks_url(dataset, doc), {"id": "nope"}),
        RetCode.NOT_FOUND,
        f"Chunk not found: {dataset['id']}/nope",
    )


# --- update -------------------------------------------------------------------------------------


def test_update_re_embeds_and_keeps_the_id(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "walrus census on the island")
    url = f"{chunks_url(dataset, doc)}/{chunk['id']}"
    assert body_of(api.put(url, {"content": "lighthouse keeper diary"})) == {"code": 0}
    (listed,) = assert_ok(api.get(chunks_url(dataset, doc), {"id": chunk["id"]}))["chunks"]
    assert listed["content"] == "lighthouse keeper diary"
    assert retrieve(api, dataset, "lighthouse keeper")["chunks"][0]["id"] == chunk["id"]
    assert retrieve(api, dataset, "walrus census", vector_similarity_weight=0)["chunks"] == []


def test_unavailable_chunks_leave_retrieval(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "fog signal at dawn")
    assert_ok(api.put(f"{chunks_url(dataset, doc)}/{chunk['id']}", {"available": False}))
    assert retrieve(api, dataset, "fog signal")["chunks"] == []
    assert assert_ok(api.get(chunks_url(dataset, doc)))["chunks"][0]["available"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"important_keywords": "x"}, "`important_keywords` should be a list"),
        ({"questions": "x"}, "`questions` should be a list"),
        ({"positions": "x"}, "`positions` should be a list"),
    ],
)
def test_update_validates(api, dataset, doc, body, message) -> None:
    chunk = add(api, dataset, doc, "some text")
    assert_error(
        api.put(f"{chunks_url(dataset, doc)}/{chunk['id']}", body), RetCode.DATA_ERROR, message
    )


def test_update_unknown_chunk(api, dataset, doc) -> None:
    assert_error(
        api.put(f"{chunks_url(dataset, doc)}/nope", {"content": "x"}),
        RetCode.DATA_ERROR,
        "Can't find this chunk nope",
    )


def test_update_qa_rule(api, dataset, doc) -> None:
    Document.objects.filter(pk=doc["id"]).update(chunk_method="qa")
    chunk = add(api, dataset, doc, "Q\tA")
    url = f"{chunks_url(dataset, doc)}/{chunk['id']}"
    assert_error(
        api.put(url, {"content": "no separator here"}),
        RetCode.DATA_ERROR,
        "Q&A must be separated by TAB/ENTER key.",
    )
    assert_ok(api.put(url, {"content": "What is it?\tA walrus."}))


# --- delete -------------------------------------------------------------------------------------


def test_delete_reports_a_count_mismatch_after_deleting(api, dataset, doc) -> None:
    ids = [add(api, dataset, doc, f"text {i}")["id"] for i in range(4)]
    response = api.delete(chunks_url(dataset, doc), {"chunk_ids": [*ids, "missing"]})
    assert_error(response, RetCode.DATA_ERROR, "rm_chunk deleted chunks 4, expect 5")
    assert not Chunk.objects.exists()
    assert_error(
        api.delete(chunks_url(dataset, doc), {"chunk_ids": ids}),
        RetCode.DATA_ERROR,
        "rm_chunk deleted chunks 0, expect 4",
    )


@pytest.mark.parametrize("body", [{"chunk_ids": None}, {"delete_all": True}])
def test_delete_all_clears_only_this_document(api, dataset, doc, body) -> None:
    other = upload(api, dataset["id"], "other.txt", b"x")
    add(api, dataset, doc, "mine")
    kept = add(api, dataset, other, "theirs")
    assert_ok(api.delete(chunks_url(dataset, doc), body))
    assert list(Chunk.objects.values_list("pk", flat=True)) == [kept["id"]]


@pytest.mark.parametrize("body", [None, {}, {"chunk_ids": []}, {"delete_all": False}])
def test_delete_without_ids_deletes_nothing(api, dataset, doc, body) -> None:
    add(api, dataset, doc, "mine")
    if body is None:
        assert_ok(api.client.delete(chunks_url(dataset, doc), headers=api.headers))
    else:
        assert_ok(api.delete(chunks_url(dataset, doc), body))
    assert Chunk.objects.count() == 1


def test_delete_dedupes(api, dataset, doc) -> None:
    chunk = add(api, dataset, doc, "x y")
    data = assert_ok(
        api.delete(chunks_url(dataset, doc), {"chunk_ids": [chunk["id"], chunk["id"]]})
    )
    assert data == {"success_count": 1, "errors": [f"Duplicate chunk ids: {chunk['id']}"]}


def test_delete_is_scoped_to_the_document(api, dataset, doc) -> None:
    other = upload(api, dataset["id"], "other.txt", b"x")
    theirs = add(api, dataset, other, "keep me")
    assert_error(
        api.delete(chunks_url(dataset, doc), {"chunk_ids": [theirs["id"]]}),
        RetCode.DATA_ERROR,
        "rm_chunk deleted chunks 0, expect 1",
    )
    assert Chunk.objects.filter(pk=theirs["id"]).exists()


def test_delete_errors(api, other_api, dataset, doc) -> None:
    assert_error(
        other_api.delete(chunks_url(dataset, doc), {"chunk_ids": []}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {dataset['id']}.",
    )
    assert_error(
        api.delete(chunks_url(dataset, {"id": "ghost"}), {"chunk_ids": []}),
        RetCode.EXCEPTION_ERROR,
        "Can't find the document with ID ghost!",
    )


# --- retrieval ----------------------------------------------------------------------------------


def test_retrieval_shape_and_scores(api, dataset, doc) -> None:
    wanted = add(
        api, dataset, doc, "The walrus colony on Kolguev island was counted at 4312 animals."
    )
    add(api, dataset, doc, "Lighthouse keepers logged fog signals every morning.")
    data = retrieve(api, dataset, "How many walruses were counted on Kolguev?")
    top = data["chunks"][0]
    assert top["id"] == wanted["id"]
    for key in ("similarity", "vector_similarity", "term_similarity"):
        assert 0.0 <= top[key] <= 1.0
    assert top["document_keyword"] == "notes.txt" and top["dataset_id"] == dataset["id"]
    assert "<em>Kolguev</em>" in top["highlight"]
    assert data["doc_aggs"] == [
        {"doc_name": "notes.txt", "doc_id": doc["id"], "count": len(data["chunks"])}
    ]
    assert data["total"] >= len(data["chunks"])


def test_retrieval_weight_extremes(api, dataset, doc) -> None:
    add(api, dataset, doc, "Kolguev walrus census 4312")
    keyword = retrieve(
        api, dataset, "Kolguev census", vector_similarity_weight=0, similarity_threshold=0
    )["chunks"][0]
    assert keyword["similarity"] == pytest.approx(keyword["term_similarity"])
    vector = retrieve(
        api, dataset, "Kolguev census", vector_similarity_weight=1, similarity_threshold=0
    )["chunks"][0]
    assert vector["similarity"] == pytest.approx(vector["vector_similarity"])


def test_retrieval_threshold_and_paging(api, dataset, doc) -> None:
    for i in range(6):
        add(api, dataset, doc, f"fog signal report number {i} from the lighthouse")
    first = retrieve(api, dataset, "fog signal lighthouse", page_size=4)
    second = retrieve(api, dataset, "fog signal lighthouse", page_size=4, page=2)
    assert len(first["chunks"]) == 4 and len(second["chunks"]) == 2
    assert not {c["id"] for c in first["chunks"]} & {c["id"] for c in second["chunks"]}
    assert first["total"] == 6
    assert (
        # "keeper" is in no chunk: none matches the whole question, none reaches 0.99.
        retrieve(api, dataset, "fog signal lighthouse keeper", similarity_threshold=0.99)["chunks"]
        == []
    )


def test_retrieval_with_document_filter_and_sdk_017_alias(api, dataset, doc) -> None:
    other = upload(api, dataset["id"], "other.txt", b"x")
    add(api, dataset, doc, "fog signal one")
    theirs = add(api, dataset, other, "fog signal two")
    for key in ("document_ids", "documents"):
        data = retrieve(api, dataset, "fog signal", **{key: [other["id"]]})
        assert [c["id"] for c in data["chunks"]] == [theirs["id"]]


def test_retrieval_metadata_condition(api, dataset, doc) -> None:
    other = upload(api, dataset["id"], "other.txt", b"x")
    Document.objects.filter(pk=doc["id"]).update(meta_fields={"author": "Ann", "year": 2019})
    Document.objects.filter(pk=other["id"]).update(meta_fields={"author": "Bob", "year": 2021})
    add(api, dataset, doc, "fog signal one")
    theirs = add(api, dataset, other, "fog signal two")
    condition = {"conditions": [{"name": "year", "comparison_operator": ">", "value": "2020"}]}
    data = retrieve(api, dataset, "fog signal", metadata_condition=condition)
    assert [c["id"] for c in data["chunks"]] == [theirs["id"]]
    nothing = {"conditions": [{"name": "author", "comparison_operator": "is", "value": "Zed"}]}
    assert retrieve(api, dataset, "fog signal", metadata_condition=nothing)["chunks"] == []


def test_retrieval_empty_question(api, dataset) -> None:
    assert retrieve(api, dataset, "") == {"total": 0, "chunks": [], "doc_aggs": {}}


def test_disabled_documents_leave_retrieval(api, dataset, doc) -> None:
    add(api, dataset, doc, "fog signal")
    assert_ok(api.put(f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}", {"enabled": 0}))
    assert retrieve(api, dataset, "fog signal")["chunks"] == []


def test_retrieval_finds_chinese(api) -> None:
    dataset = assert_ok(
        api.post(
            "/api/v1/datasets",
            {"name": "zh", "embedding_model": "universal-sentence-encoder-multilingual-v3@Builtin"},
        )
    )
    doc = upload(api, dataset["id"], "规定.txt", "占位".encode())
    wanted = add(api, dataset, doc, "员工的登录密码每九十天必须更换一次。")
    add(api, dataset, doc, "食堂每天中午十二点开始供应午餐。")
    data = retrieve(api, dataset, "密码多久更换一次？")
    assert data["chunks"][0]["id"] == wanted["id"]
    assert "<em>密码</em>" in data["chunks"][0]["highlight"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dataset_ids": ["x"]}, "`question` is required."),
        ({"question": "q"}, "`dataset_ids` is required."),
        ({"question": "q", "dataset_ids": []}, "`dataset_ids` is required."),
        ({"question": "q", "dataset_ids": "x"}, "`dataset_ids` should be a list"),
        ({"question": "q", "dataset_ids": ["ghost"]}, "You don't own the dataset ghost."),
    ],
)
def test_retrieval_validates(api, body, message) -> None:
    assert_error(api.post("/api/v1/retrieval", body), RetCode.DATA_ERROR, message)


def test_retrieval_rules_on_datasets_and_documents(api, other_api, dataset, doc) -> None:
    other = assert_ok(
        api.post(
            "/api/v1/datasets",
            {"name": "zh", "embedding_model": "universal-sentence-encoder-multilingual-v3@Builtin"},
        )
    )
    body = {"question": "q", "dataset_ids": [dataset["id"], other["id"]]}
    assert_error(
        api.post("/api/v1/retrieval", body),
        RetCode.DATA_ERROR,
        'Datasets use different embedding models."',
    )
    body = {"question": "q", "dataset_ids": [dataset["id"]], "document_ids": "x"}
    assert_error(
        api.post("/api/v1/retrieval", body), RetCode.DATA_ERROR, "`documents` should be a list"
    )
    body = {"question": "q", "dataset_ids": [dataset["id"]], "document_ids": ["ghost"]}
    assert_error(
        api.post("/api/v1/retrieval", body),
        RetCode.DATA_ERROR,
        "The datasets don't own the document ghost",
    )
    assert_error(
        other_api.post("/api/v1/retrieval", {"question": "q", "dataset_ids": [dataset["id"]]}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {dataset['id']}.",
    )
    assert_error(
        api.post(
            "/api/v1/retrieval", {"question": "q", "dataset_ids": [dataset["id"]], "top_k": 0}
        ),
        RetCode.ARGUMENT_ERROR,
        "`top_k` must be positive, got 0.",
    )
    assert_error(
        api.post(
            "/api/v1/retrieval",
            {"question": "q", "dataset_ids": [dataset["id"]], "rerank_id": "ghost@Nowhere"},
        ),
        RetCode.DATA_ERROR,
        "ghost@Nowhere",
    )


def test_retrieval_returns_keyword_lists_as_lists(api, dataset, doc) -> None:
    add(api, dataset, doc, "fog signal at dawn", important_keywords=["fog", "dawn"])
    (hit,) = retrieve(api, dataset, "fog signal")["chunks"]
    assert hit["important_keywords"] == ["fog", "dawn"]
    assert hit["positions"] == []


def test_retrieval_with_a_large_page_stays_within_pgvector_limits(api, dataset, doc) -> None:
    add(api, dataset, doc, "fog signal at dawn")
    data = retrieve(api, dataset, "fog signal", page=3, page_size=400, top_k=2048)
    assert data["chunks"] == [] and data["total"] == 1
