"""Ranking on small hand-checked corpora, BM25 pieces, highlighting and HTTP rerank."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from knowledge import retrieval
from knowledge.models import Document, ModelProvider
from knowledge.rerank import get_reranker
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.api.errors import DataError


@pytest.fixture
def corpus(tenant):
    """A tiny English corpus whose right answers are obvious to a person."""
    dataset = dataset_create(tenant=tenant, name="facts")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="facts.txt", type="doc", suffix="txt"
    )
    texts = {
        "walrus": "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
        "lighthouse": "Lighthouse keepers sounded the fog signal every morning at dawn.",
        "pgvector": "Postgres with pgvector keeps one embedding per chunk.",
        "tax": "Tax forms for the fiscal year are due at the end of April.",
        "cat": "The cat sat on the mat and watched the birds.",
    }
    ids = {key: chunk_add(document=document, content=text).pk for key, text in texts.items()}
    return tenant, dataset, ids


def ask(tenant, dataset, question, **kwargs):
    result = retrieval_run(
        user=tenant,
        request=RetrievalRequest(
            question=question, dataset_ids=[dataset.pk], similarity_threshold=0, **kwargs
        ),
    )
    return result.hits


def test_an_exact_keyword_match_beats_unrelated_chunks(corpus) -> None:
    tenant, dataset, ids = corpus
    hits = ask(tenant, dataset, "Kolguev 4312", vector_similarity_weight=0)
    assert hits[0].id == ids["walrus"]
    assert hits[0].term_similarity > 0.9
    assert all(h.term_similarity == 0 for h in hits[1:])


def test_vector_leg_alone_finds_a_paraphrase(corpus) -> None:
    tenant, dataset, ids = corpus
    hits = ask(
        tenant, dataset, "how many sea mammals live on that arctic isle", vector_similarity_weight=1
    )
    assert hits[0].id == ids["walrus"]
    assert hits[0].similarity == pytest.approx(hits[0].vector_similarity)


def test_hybrid_combines_both_legs(corpus) -> None:
    tenant, dataset, ids = corpus
    (top, *_rest) = ask(tenant, dataset, "When must tax forms be filed?")
    assert top.id == ids["tax"]
    assert top.similarity == pytest.approx(0.3 * top.vector_similarity + 0.7 * top.term_similarity)


def test_rare_terms_weigh_more_than_common_ones(corpus) -> None:
    tenant, dataset, ids = corpus
    # "the" is in most chunks, "mat" in one: the chunk with the rare term must rank first.
    hits = ask(tenant, dataset, "the the the mat", vector_similarity_weight=0)
    assert hits[0].id == ids["cat"]


def test_idf_is_positive_and_falls_with_frequency() -> None:
    assert retrieval.idf(1, 1000) > retrieval.idf(100, 1000) > retrieval.idf(1000, 1000) > 0


def test_term_similarity_saturates_within_zero_and_one() -> None:
    weights = {"fog": 2.0, "dawn": 1.0}
    full = retrieval.term_similarity(["fog", "dawn"], weights, ["fog", "dawn", "x"], [], avgdl=3)
    assert full == pytest.approx(1.0)
    # Only the rarer term (weight 2 of 3), in a chunk of average length: two thirds.
    partial = retrieval.term_similarity(["fog", "dawn"], weights, ["fog", "x", "y"], [], avgdl=3)
    assert partial == pytest.approx(2 / 3)
    # Repeating one term does not make up for the missing one.
    repeated = retrieval.term_similarity(["fog", "dawn"], weights, ["fog"] * 50, [], avgdl=50)
    assert repeated == pytest.approx(2 / 3)
    # The same match in a much longer chunk counts for less.
    long = retrieval.term_similarity(
        ["fog", "dawn"], weights, ["fog", "dawn"] + ["x"] * 60, [], avgdl=3
    )
    assert 0 < long < full
    assert retrieval.term_similarity(["fog"], {"fog": 1.0}, ["x"], [], avgdl=1) == 0
    # Keywords count for more than body text.
    body = retrieval.term_similarity(["fog"], {"fog": 1.0}, ["fog"] + ["a"] * 20, [], avgdl=8)
    keyword = retrieval.term_similarity(["fog"], {"fog": 1.0}, ["a"] * 20, ["fog"], avgdl=8)
    assert keyword > body


def test_highlight_escapes_html_and_marks_terms() -> None:
    assert retrieval.highlight("Fog <b>signal</b> at dawn", ["fog", "dawn"]) == (
        "<em>Fog</em> &lt;b&gt;signal&lt;/b&gt; at <em>dawn</em>"
    )
    assert (
        retrieval.highlight("密码每九十天更换", ["密码", "更换"])
        == "<em>密码</em>每九十天<em>更换</em>"
    )
    assert retrieval.highlight("foggy", ["fog"]) == "foggy"  # whole words only for latin terms


def test_hnsw_and_exact_search_agree_on_a_small_corpus(corpus) -> None:
    from knowledge import embeddings

    tenant, dataset, ids = corpus
    vector = embeddings.embed_query(dataset.embedding_model, "fog signal").tolist()
    scope = retrieval.Scope([dataset.pk])
    assert list(retrieval.vector_candidates(scope, vector, 3)) == list(
        retrieval.vector_candidates(scope, vector, 3, exact=True)
    )


# --- rerank over HTTP -------------------------------------------------------------------------


class _RerankHandler(BaseHTTPRequestHandler):
    style = "jina"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        texts = body["documents"]
        # Scores: prefer texts mentioning "lighthouse".
        scores = [0.9 if "ighthouse" in text else 0.1 for text in texts]
        if type(self).style == "jina":
            payload = {
                "results": [{"index": i, "relevance_score": s} for i, s in enumerate(scores)]
            }
        else:  # TEI: raw logits
            payload = [
                {"index": i, "score": 4.0 if s > 0.5 else -4.0} for i, s in enumerate(scores)
            ]
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rerank_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RerankHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.mark.parametrize("style", ["jina", "tei"])
def test_rerank_scores_replace_cosine(corpus, rerank_server, style) -> None:
    _RerankHandler.style = style
    ModelProvider.objects.create(
        factory="LocalRerank", base_url=rerank_server, rerank_models="bge-reranker"
    )
    tenant, dataset, ids = corpus
    hits = ask(
        tenant, dataset, "walrus", rerank_id="bge-reranker@LocalRerank", vector_similarity_weight=1
    )
    assert hits[0].id == ids["lighthouse"]
    assert 0.85 < hits[0].vector_similarity <= 1


def test_unknown_rerank_model_is_a_clear_error(db) -> None:
    with pytest.raises(DataError, match="not a configured rerank model"):
        get_reranker("ghost@Nowhere")


def test_candidate_terms_take_the_rarest_within_the_budget(monkeypatch) -> None:
    monkeypatch.setattr(retrieval, "CANDIDATE_POSTINGS_BUDGET", 100)
    df = {"walrus": 3, "island": 40, "the": 5000, "colony": 60}
    assert retrieval.candidate_terms(["the", "walrus", "island", "colony", "absent"], df) == [
        "walrus",
        "island",
    ]
    # The rarest term is always used, even over budget, so a keyword leg always exists.
    assert retrieval.candidate_terms(["the"], df) == ["the"]
