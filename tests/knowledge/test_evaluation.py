"""Retrieval evaluation: the metrics on hand-computed cases, and the API on a real dataset."""

from __future__ import annotations

import math

import pytest

from knowledge import evaluation as metrics
from knowledge.models import Document, EvaluationQuestion
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create

BASE = "/api/v1/ragsite/datasets"


def hits(*pairs: tuple[str, str]) -> list[metrics.RankedHit]:
    return [metrics.RankedHit(c, d, 1 - i / 10) for i, (c, d) in enumerate(pairs)]


def test_document_level_dedupes_documents_before_judging() -> None:
    ranked = hits(("c1", "A"), ("c2", "A"), ("c3", "B"), ("c4", "C"))
    score = metrics.score(ranked, metrics.Judgement(document_ids=frozenset({"C"})))
    # Documents in order A, B, C: the relevant one is third, not fourth.
    assert score.first_relevant == 3
    assert score.ndcg == pytest.approx(1 / math.log2(4))
    assert score.recall == 1.0
    assert score.reciprocal_rank == pytest.approx(1 / 3)


def test_chunk_level_judges_chunks_and_partial_recall() -> None:
    ranked = hits(("c1", "A"), ("c2", "A"), ("c3", "B"))
    judgement = metrics.Judgement(chunk_ids=frozenset({"c2", "c9"}))
    score = metrics.score(ranked, judgement)
    assert score.first_relevant == 2
    assert score.recall == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert score.ndcg == pytest.approx((1 / math.log2(3)) / ideal)


def test_nothing_relevant_in_the_top_k_scores_zero_and_thresholds_trim() -> None:
    ranked = hits(*[(f"c{i}", f"D{i}") for i in range(12)])
    judgement = metrics.Judgement(document_ids=frozenset({"D11"}))
    assert metrics.score(ranked, judgement).ndcg == 0.0
    kept = metrics.above(ranked, 0.75)
    assert [h.chunk_id for h in kept] == ["c0", "c1", "c2"]
    summary = metrics.summarise([metrics.score([], judgement), metrics.score(ranked, judgement)])
    assert summary.empty_share == 0.5


@pytest.fixture
def library(tenant):
    dataset = dataset_create(tenant=tenant, name="library")
    texts = {
        "walrus.txt": "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
        "fog.txt": "Lighthouse keepers sounded the fog signal every morning at dawn.",
        "tax.txt": "Tax forms for the fiscal year are due at the end of April.",
    }
    documents = {}
    for name, text in texts.items():
        document = Document.objects.create(
            dataset=dataset, tenant=tenant, name=name, type="doc", suffix="txt"
        )
        chunk_add(document=document, content=text)
        documents[name] = document
    dataset.refresh_from_db()
    return dataset, documents


def test_questions_round_trip_and_a_run_scores_every_leg(api, library) -> None:
    dataset, documents = library
    path = f"{BASE}/{dataset.pk}/evaluation/questions"
    asked = {
        "How many walruses were counted on Kolguev?": "walrus.txt",
        "When are tax forms due?": "tax.txt",
        "What did lighthouse keepers do at dawn?": "fog.txt",
    }
    for question, name in asked.items():
        body = api.post(path, {"question": question, "document_ids": [documents[name].pk]}).json()
        assert body["code"] == 0, body
        assert body["data"]["document_ids"] == [documents[name].pk]
    listed = api.get(path).json()
    assert listed["code"] == 0 and listed["total"] == 3

    body = api.post(f"{BASE}/{dataset.pk}/evaluation", {"weights": [0, 0.5, 1]}).json()
    assert body["code"] == 0, body
    report = body["data"]
    assert report["question_count"] == 3
    assert set(report["legs"]) == {"keyword", "vector", "hybrid"}
    # The dataset's own weight (0.3) joins the sweep.
    assert [w["vector_similarity_weight"] for w in report["weights"]] == [0, 0.3, 0.5, 1]
    # Three unmistakable questions over three documents: every leg ranks the answer first.
    for leg in report["legs"].values():
        assert leg["ndcg"] == 1.0 and leg["recall"] == 1.0
    assert all(q["hybrid"]["first_relevant"] == 1 for q in report["questions"])
    # A threshold above every similarity leaves nothing: the sweep shows the cost.
    thresholds = {t["similarity_threshold"]: t for t in report["thresholds"]}
    assert thresholds[0.0]["empty_share"] == 0.0
    assert report["best"]["vector_similarity_weight"] in {0, 0.3, 0.5, 1}


def test_a_wrong_answer_key_scores_below_one(api, library) -> None:
    dataset, documents = library
    api.post(
        f"{BASE}/{dataset.pk}/evaluation/questions",
        {"question": "When are tax forms due?", "document_ids": [documents["fog.txt"].pk]},
    )
    report = api.post(f"{BASE}/{dataset.pk}/evaluation", {}).json()["data"]
    assert report["legs"]["hybrid"]["ndcg"] < 1.0
    assert report["questions"][0]["hybrid"]["first_relevant"] != 1


def test_bad_input_is_refused_and_nothing_is_stored(api, library) -> None:
    dataset, documents = library
    path = f"{BASE}/{dataset.pk}/evaluation/questions"
    cases = [
        ({"question": "", "document_ids": [documents["fog.txt"].pk]}, 101),
        ({"question": "no answer named"}, 101),
        ({"question": "q", "document_ids": "abc"}, 101),
        ({"question": "q", "document_ids": ["0" * 32]}, 102),
        ({"question": "q", "chunk_ids": ["nope"]}, 102),
        ({"question": "q", "document_ids": [], "colour": "red"}, 101),
    ]
    for body, code in cases:
        answer = api.post(path, body).json()
        assert answer["code"] == code, (body, answer)
    broken = api.post(path, data='{"question": "q",}', content_type="application/json")
    assert broken.json()["code"] == 101
    run = api.post(f"{BASE}/{dataset.pk}/evaluation", {"weights": [2]}).json()
    assert run["code"] == 101
    assert EvaluationQuestion.objects.count() == 0


def test_a_malformed_delete_deletes_nothing(api, library) -> None:
    dataset, documents = library
    path = f"{BASE}/{dataset.pk}/evaluation/questions"
    created = api.post(path, {"question": "fog?", "document_ids": [documents["fog.txt"].pk]})
    qid = created.json()["data"]["id"]
    assert api.delete(path, data='{"ids": [', content_type="application/json").json()["code"] == 101
    assert api.delete(path, {}).json()["data"] == {"success_count": 0}
    assert EvaluationQuestion.objects.count() == 1
    assert api.delete(path, {"ids": [qid]}).json()["data"] == {"success_count": 1}


def test_another_tenant_cannot_read_add_or_run(api, other_api, library, other_tenant) -> None:
    dataset, documents = library
    path = f"{BASE}/{dataset.pk}/evaluation/questions"
    api.post(path, {"question": "fog?", "document_ids": [documents["fog.txt"].pk]})
    assert other_api.get(path).json()["code"] == 102
    body = {"question": "x", "document_ids": [documents["fog.txt"].pk]}
    assert other_api.post(path, body).json()["code"] == 102
    assert other_api.post(f"{BASE}/{dataset.pk}/evaluation", {}).json()["code"] == 102
    assert other_api.delete(path, {"delete_all": True}).json()["code"] == 102
    # Their own dataset cannot name our documents as answers either.
    theirs = dataset_create(tenant=other_tenant, name="theirs")
    foreign = other_api.post(f"{BASE}/{theirs.pk}/evaluation/questions", body).json()
    assert foreign["code"] == 102
    assert EvaluationQuestion.objects.count() == 1
