"""Ranking on small hand-checked corpora, BM25 pieces, highlighting and HTTP rerank."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from knowledge import retrieval, scoring
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
    assert scoring.idf(1, 1000) > scoring.idf(100, 1000) > scoring.idf(1000, 1000) > 0


def test_term_similarity_is_bm25_scaled_to_zero_and_one() -> None:
    weights = {"fog": 2.0, "dawn": 1.0}
    full = scoring.term_similarity(["fog", "dawn"], weights, ["fog", "dawn", "x"], [], avgdl=3)
    assert full == pytest.approx(1.0)
    # Only the rarer term (weight 2 of 3), in a chunk of average length: two thirds.
    partial = scoring.term_similarity(["fog", "dawn"], weights, ["fog", "x", "y"], [], avgdl=3)
    assert partial == pytest.approx(2 / 3)
    # BM25's frequency saturation: 50 occurrences are worth less than k1 + 1 = 2.2 single ones.
    repeated = scoring.term_similarity(["fog", "dawn"], weights, ["fog"] * 50, [], avgdl=50)
    assert partial < repeated < 2.2 * partial
    # The same match in a much longer chunk counts for less.
    long = scoring.term_similarity(
        ["fog", "dawn"], weights, ["fog", "dawn"] + ["x"] * 60, [], avgdl=3
    )
    assert 0 < long < full
    assert scoring.term_similarity(["fog"], {"fog": 1.0}, ["x"], [], avgdl=1) == 0
    # Keywords count for more than body text.
    body = scoring.term_similarity(["fog"], {"fog": 1.0}, ["fog"] + ["a"] * 20, [], avgdl=8)
    keyword = scoring.term_similarity(["fog"], {"fog": 1.0}, ["a"] * 20, ["fog"], avgdl=8)
    assert keyword > body


def test_highlight_escapes_html_and_marks_terms() -> None:
    assert scoring.highlight("Fog <b>signal</b> at dawn", ["fog", "dawn"]) == (
        "<em>Fog</em> &lt;b&gt;signal&lt;/b&gt; at <em>dawn</em>"
    )
    assert (
        scoring.highlight("密码每九十天更换", ["密码", "更换"])
        == "<em>密码</em>每九十天<em>更换</em>"
    )
    assert scoring.highlight("foggy", ["fog"]) == "foggy"  # whole words only for latin terms


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


def test_deep_pages_get_as_many_keyword_candidates_as_they_show(tenant, monkeypatch) -> None:
    """The keyword leg's candidate count grows with page × page_size (as the vector leg's): a
    page larger than the floor, or a later page, still lists the matches past it."""
    monkeypatch.setattr(retrieval, "KEYWORD_CANDIDATES", 4)
    monkeypatch.setattr(retrieval, "MIN_VECTOR_CANDIDATES", 1)
    dataset = dataset_create(tenant=tenant, name="ledger")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="ledger.txt", type="doc", suffix="txt"
    )
    ids = {
        chunk_add(
            document=document, content=f"Ledger entry {n}: the lighthouse fund {'paid ' * n}"
        ).pk
        for n in range(1, 13)
    }
    whole = ask(tenant, dataset, "lighthouse fund", vector_similarity_weight=0, page_size=12)
    assert {h.id for h in whole} == ids  # 4 candidates would have left 8 out
    seen = [
        h.id
        for page in (1, 2)
        for h in ask(
            tenant, dataset, "lighthouse fund", vector_similarity_weight=0, page=page, page_size=6
        )
    ]
    assert seen == [h.id for h in whole]


# --- BM25 ranking, stop words, cross-lingual questions ------------------------------------------


def textbook_bm25(question_terms, documents, k1=1.2, b=0.75):
    """Okapi BM25 of each document (a list of terms) for the question's terms."""
    import math
    from collections import Counter

    n = len(documents)
    avgdl = sum(len(d) for d in documents) / n
    df = Counter(t for d in documents for t in set(d))
    scores = []
    for d in documents:
        counts = Counter(d)
        s = 0.0
        for t in question_terms:
            if tf := counts[t]:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))
        scores.append(s)
    return scores


@pytest.fixture
def manual(tenant):
    """Passages where term frequency, rarity and length all matter to BM25."""
    dataset = dataset_create(tenant=tenant, name="manual")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="manual.txt", type="doc", suffix="txt"
    )
    texts = [
        "Vacuum reclaims storage occupied by dead tuples.",
        "Vacuum vacuum vacuum: run vacuum often, vacuum keeps tables small.",
        "Autovacuum launches vacuum workers for tables with many dead tuples and also analyzes "
        "tables so that the planner statistics stay fresh for the query planner.",
        "The planner chooses an index scan when statistics say few rows match.",
        "Tuples are row versions; dead tuples remain after update and delete.",
        "Checkpoints flush dirty pages to disk.",
    ]
    chunks = [chunk_add(document=document, content=text) for text in texts]
    return tenant, dataset, chunks


def test_keyword_leg_orders_chunks_as_textbook_bm25(manual) -> None:
    from knowledge import fulltext

    tenant, dataset, chunks = manual
    for question in ("vacuum dead tuples", "planner statistics", "What are dead tuples?"):
        hits = ask(tenant, dataset, question, vector_similarity_weight=0, page_size=50)
        terms = fulltext.query_terms(question)
        scores = textbook_bm25(terms, [c.content_ltks.split() for c in chunks])
        expected = [
            c.pk for s, c in sorted(zip(scores, chunks, strict=True), key=lambda p: -p[0]) if s > 0
        ]
        assert [h.id for h in hits] == expected, question
        assert all(0 < h.term_similarity <= 1 for h in hits)


def test_stop_words_are_left_out_of_the_question(db) -> None:
    from knowledge import fulltext

    assert fulltext.query_terms("What are the minimum hardware requirements?") == [
        "minimum",
        "hardware",
        "requirements",
    ]
    assert fulltext.query_terms("如何配置数据库的连接池？") == [
        "配置", "数据", "据库", "数据库", "连接", "连接池"
    ]  # fmt: skip
    # A question of stop words only keeps them: they are all it says.
    assert fulltext.query_terms("What is it?") == ["what", "is", "it"]


def test_highlight_never_marks_stop_words() -> None:
    text = "What are the minimum hardware requirements of the server?"
    marked = scoring.highlight(text, ["what", "are", "the", "hardware", "requirements"])
    assert marked == ("What are the minimum <em>hardware</em> <em>requirements</em> of the server?")
    assert scoring.highlight("数据库的连接池", ["数据库", "的", "连接池"]) == (
        "<em>数据库</em>的<em>连接池</em>"
    )


def test_stop_words_in_a_question_neither_rank_nor_highlight(corpus) -> None:
    tenant, dataset, ids = corpus
    hits = ask(tenant, dataset, "What is the cat on?", vector_similarity_weight=0)
    assert [h.id for h in hits] == [ids["cat"]]
    assert hits[0].highlight == "The <em>cat</em> sat on the mat and watched the birds."


@pytest.fixture
def readme(tenant):
    """A project README cut into chunks, as a user uploads one."""
    dataset = dataset_create(tenant=tenant, name="readme")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="README.md", type="doc", suffix="md"
    )
    texts = {
        "intro": "ragsite is a self-hosted knowledge base server that answers questions from "
        "your documents with citations.",
        "prereq": "Prerequisites\n- CPU >= 4 cores\n- RAM >= 16 GB\n- Disk >= 50 GB\n"
        "- Docker >= 24.0.0 & Docker Compose >= v2.26.1",
        "start": "Stop all running containers, then start the server with docker compose up -d "
        "and open the web page on port 80.",
        "license": "This project is licensed under the Apache License 2.0.",
        "upgrade": "To upgrade, pull the latest image and restart the containers; your data "
        "is kept in volumes.",
    }
    ids = {key: chunk_add(document=document, content=text).pk for key, text in texts.items()}
    return tenant, dataset, ids


def test_minimum_hardware_requirements_finds_the_list_at_the_default_threshold(readme) -> None:
    tenant, dataset, ids = readme
    result = retrieval_run(
        user=tenant,
        request=RetrievalRequest(
            question="What are the minimum hardware requirements?", dataset_ids=[dataset.pk]
        ),
    )
    assert result.hits, "nothing passed the default similarity_threshold 0.2"
    assert result.hits[0].id == ids["prereq"]
    assert all("<em>" not in h.highlight for h in result.hits)  # no question word is in them


def test_a_chinese_question_finds_an_english_chunk(corpus) -> None:
    tenant, dataset, ids = corpus
    # 海象 is "walrus" in CC-CEDICT; 灯塔 "lighthouse".
    for weight in (0.0, 0.3):
        hits = ask(tenant, dataset, "海象有多少只？", vector_similarity_weight=weight)
        assert hits[0].id == ids["walrus"], weight
        assert "<em>walrus</em>" in hits[0].highlight
    hits = ask(tenant, dataset, "灯塔看守人什么时候发信号？", vector_similarity_weight=1)
    assert hits[0].id == ids["lighthouse"]


def test_retrieval_takes_three_round_trips(corpus, django_assert_max_num_queries) -> None:
    from knowledge import embeddings

    tenant, dataset, ids = corpus
    vector = embeddings.embed_query(dataset.embedding_model, "fog signal").tolist()
    query = retrieval.Query("fog signal", retrieval.Scope([dataset.pk]), vector)
    # Document frequencies, both legs with what scoring needs in one message, the page's rows.
    with django_assert_max_num_queries(3):
        result = retrieval.retrieve(query, total_chunks=5)
    assert result.hits[0].id == ids["lighthouse"]
