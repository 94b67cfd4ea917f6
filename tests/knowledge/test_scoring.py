"""knowledge.scoring: document evidence, answer confidence, the normaliser of translated terms,
and the no-answer path at the default threshold through the real ranking."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from knowledge import scoring
from knowledge.models import Document
from knowledge.scoring import TermGroup, TermScorer
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.retrieval import RetrievalRequest, retrieval_run


@dataclass
class Part:
    document_id: str
    vector_similarity: float
    term_similarity: float
    similarity: float = 0.0


def test_a_chunk_whose_document_holds_other_matches_ranks_higher() -> None:
    lone = Part("a", 0.6, 0.6)
    backed = Part("b", 0.6, 0.6)
    sibling = Part("b", 0.4, 0.4)
    scoring.fuse([lone, backed, sibling], 0.3)
    assert lone.similarity == pytest.approx(0.6)
    # 0.6 + 0.5 × 0.4 × (1 − 0.6)
    assert backed.similarity == pytest.approx(0.68)
    # The sibling counts its document's best: 0.4 + 0.5 × 0.6 × 0.6
    assert sibling.similarity == pytest.approx(0.58)
    assert backed.similarity > lone.similarity > sibling.similarity


def test_document_evidence_keeps_similarities_in_range_and_order_within_a_document() -> None:
    hits = [Part("d", v, v) for v in (1.0, 0.9, 0.5, 0.1)]
    scoring.fuse(hits, 0.3)
    values = [h.similarity for h in hits]
    assert values == sorted(values, reverse=True)
    assert all(0 <= v <= 1 for v in values)
    assert values[0] == 1.0


def test_single_legs_get_no_document_evidence() -> None:
    for weight in (0.0, 1.0):
        lone, backed, sibling = Part("a", 0.6, 0.6), Part("b", 0.6, 0.6), Part("b", 0.4, 0.4)
        scoring.fuse([lone, backed, sibling], weight)
        assert backed.similarity == lone.similarity == pytest.approx(0.6)


def test_answer_confidence_falls_from_one_to_zero_between_its_bounds() -> None:
    assert scoring.answer_confidence(1.0) == 1.0
    assert scoring.answer_confidence(scoring.CONFIDENT_BEST) == 1.0
    assert scoring.answer_confidence(scoring.UNRELATED_BEST) == 0.0
    assert scoring.answer_confidence(0.0) == 0.0
    middle = (scoring.UNRELATED_BEST + scoring.CONFIDENT_BEST) / 2
    assert scoring.answer_confidence(middle) == pytest.approx(0.5)


def test_scale_vectors_reports_low_confidence_when_even_the_best_cosine_is_low() -> None:
    close = [Part("a", 0.6, 0.0), Part("a", 0.3, 0.0)]
    assert scoring.scale_vectors(close) == 1.0
    assert close[0].vector_similarity == 1.0
    # Best cosine 0.15: divided by the floor 0.5 to 0.3 = UNRELATED_BEST.
    far = [Part("a", 0.15, 0.0), Part("a", 0.1, 0.0)]
    assert scoring.scale_vectors(far) == pytest.approx(0.0)
    # Measured from the baseline 0.1: (0.15 − 0.1) / (0.5 − 0.1).
    assert far[0].vector_similarity == pytest.approx(0.125)
    assert far[1].vector_similarity == 0.0


def test_scaled_cosines_spread_from_the_baseline_to_one() -> None:
    hits = [Part("a", 0.6, 0.0), Part("b", 0.5, 0.0), Part("c", 0.05, 0.0)]
    scoring.scale_vectors(hits)
    baseline = scoring.VECTOR_BASELINE
    assert [h.vector_similarity for h in hits] == pytest.approx(
        [1.0, (0.5 - baseline) / (0.6 - baseline), 0.0]
    )
    # Divided by the best cosine alone, the second would sit at 0.83: closer to the best.
    assert hits[1].vector_similarity < 0.5 / 0.6


def test_cosines_all_under_the_baseline_still_scale_the_terms_by_confidence() -> None:
    """Every cosine under the baseline scales to 0, but the question had an embedding: its
    term parts are scaled by the (zero) confidence instead of standing alone."""
    hits = [Part("a", 0.08, 0.9), Part("b", 0.05, 0.4)]
    only_terms = all(h.vector_similarity == 0 for h in hits)
    confidence = scoring.scale_vectors(hits)
    assert [h.vector_similarity for h in hits] == [0.0, 0.0]
    scoring.fuse(hits, 0.3, confidence, only_terms=only_terms)
    assert [h.similarity for h in hits] == [0.0, 0.0]
    # Without the flag the parts look like a question with no embedding: terms alone.
    unflagged = [Part("a", 0.0, 0.9), Part("b", 0.0, 0.4)]
    scoring.fuse(unflagged, 0.3, confidence)
    assert [h.similarity for h in unflagged] == pytest.approx([0.9, 0.4])


def parts() -> list[Part]:
    return [Part("a", 0.9, 0.2), Part("b", 0.3, 0.9), Part("c", 0.5, 0.5)]


def test_low_confidence_scales_every_similarity_without_reordering() -> None:
    confident, doubtful = parts(), parts()
    scoring.fuse(confident, 0.3)
    scoring.fuse(doubtful, 0.3, confidence=0.25)
    assert [h.similarity for h in doubtful] == pytest.approx(
        [h.similarity * 0.25 for h in confident]
    )
    # The keyword leg alone is BM25's: the embedding's confidence does not touch it.
    keyword = parts()
    scoring.fuse(keyword, 0.0, confidence=0.25)
    assert [h.similarity for h in keyword] == pytest.approx([0.2, 0.9, 0.5])


def test_reported_parts_still_add_up_to_the_similarity() -> None:
    hits = [Part("d", 1.0, 0.1), Part("d", 0.2, 1.0), Part("e", 0.7, 0.7)]
    scoring.fuse(hits, 0.3, confidence=0.8)
    for hit in hits:
        assert 0 <= hit.vector_similarity <= 1 and 0 <= hit.term_similarity <= 1
        assert hit.similarity == pytest.approx(
            0.3 * hit.vector_similarity + 0.7 * hit.term_similarity
        )


def test_a_translated_word_no_chunk_holds_counts_against_every_chunk() -> None:
    groups = [
        TermGroup(("一根",)),
        TermGroup(("香蕉",)),
        TermGroup(("one", "single"), original=False),
        TermGroup(("banana",), original=False),
    ]
    df = {"one": 10}
    scorer = TermScorer.build(groups, df, 100)
    # The Chinese words are expected to be missing from English chunks; "banana" is not.
    assert scorer.attainable == pytest.approx(scoring.idf(10, 100) + scoring.idf(0, 100))
    untranslated = TermScorer.build([TermGroup(("one",)), TermGroup(("banana",))], df, 100)
    assert untranslated.attainable == pytest.approx(scorer.attainable)


def test_in_a_hybrid_ranking_a_gloss_counts_part_of_its_weight() -> None:
    groups = [TermGroup(("表",)), TermGroup(("table",), original=False)]
    scorer = TermScorer.build(groups, {"table": 5}, 100)
    chunk = scoring.SegmentedText("create table orders")
    empty = scoring.SegmentedText("")
    keyword = scorer.bm25(chunk, empty, 3.0)
    hybrid = scorer.bm25(chunk, empty, 3.0, hybrid=True)
    assert hybrid == pytest.approx(keyword * scoring.TRANSLATED_TERM_WEIGHT)
    # A word written in the question keeps its full weight either way.
    written = TermScorer.build([TermGroup(("table",))], {"table": 5}, 100)
    assert written.bm25(chunk, empty, 3.0, hybrid=True) == pytest.approx(keyword)


@pytest.fixture
def manual(tenant):
    """A few chunks of a database manual, with two on the same page."""
    dataset = dataset_create(tenant=tenant, name="manual")
    texts = {
        "vacuum.html": [
            "VACUUM reclaims storage occupied by dead tuples. In normal PostgreSQL operation, "
            "tuples that are deleted or obsoleted by an update are not physically removed.",
            "VACUUM FULL rewrites the entire contents of the table into a new disk file with "
            "no extra space, allowing unused space to be returned to the operating system.",
        ],
        "backup.html": [
            "pg_dump is a utility for backing up a PostgreSQL database. It makes consistent "
            "backups even if the database is being used concurrently."
        ],
        # Words the off-topic questions use, in a database manual's sense.
        "syntax.html": [
            # (A chunk holding both "capital" and "city" is as close to "the capital city of
            # Australia" for MiniLM, cosine 0.27, as some answers are: that one still passes.)
            "Identifiers are case-insensitive unless quoted: write capital letters in a name "
            "only between double quotes.",
            "Dates such as 1998-07-12 are read by the session's DateStyle; the year, month and "
            "day order follows the country's convention. Change a flat file into rows with "
            "COPY; a long integer holds one count per row.",
        ],
        "json.html": [
            "json.dumps serializes obj to a JSON formatted str. If ensure_ascii is true, the "
            "output is guaranteed to have all incoming non-ASCII characters escaped."
        ],
    }
    for name, chunks in texts.items():
        document = Document.objects.create(
            dataset=dataset, tenant=tenant, name=name, type="doc", suffix="html"
        )
        for text in chunks:
            chunk_add(document=document, content=text)
    return tenant, dataset


def ask_with_defaults(tenant, dataset, question):
    """POST /api/v1/retrieval's defaults: threshold 0.2, vector weight 0.3."""
    result = retrieval_run(
        user=tenant, request=RetrievalRequest(question=question, dataset_ids=[dataset.pk])
    )
    return result.hits


@pytest.mark.parametrize(
    "question",
    [
        "how long should I boil an egg for a soft yolk?",
        "what is the capital city of Australia?",
        "how do I change a flat tyre on my car?",
        "一根香蕉有多少卡路里？",
        "1998 年世界杯冠军是哪个国家？",
        "地毯上的红酒渍怎么去除？",
    ],
)
def test_a_question_nothing_answers_finds_nothing_at_the_default_threshold(
    manual, question
) -> None:
    tenant, dataset = manual
    assert ask_with_defaults(tenant, dataset, question) == []


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("how do I give disk space back to the operating system after deleting rows?",
         "vacuum.html"),
        ("删除大量数据后怎样把磁盘空间还给操作系统？", "vacuum.html"),
        ("怎样备份 PostgreSQL 数据库？", "backup.html"),
        ("写 JSON 时如何保留非 ASCII 字符？", "json.html"),
    ],
)  # fmt: skip
def test_an_answered_question_passes_the_default_threshold_in_either_language(
    manual, question, document
) -> None:
    tenant, dataset = manual
    hits = ask_with_defaults(tenant, dataset, question)
    assert hits, "nothing passed the default similarity_threshold 0.2"
    assert hits[0].document_name == document


def test_glosses_are_only_extras_when_chunks_hold_the_chinese_words() -> None:
    groups = [
        TermGroup(("香蕉",)),
        TermGroup(("banana",), original=False),
        TermGroup(("calorie",), original=False),
    ]
    scorer = TermScorer.build(groups, {"香蕉": 5}, 100)
    assert scorer.attainable == pytest.approx(scoring.idf(5, 100))
