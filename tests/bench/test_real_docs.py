"""The real-document benchmark's questions hold up against the installed Debian doc pages.

Offline: no server, no model. Skips (with the apt-get command to run) when python3.11-doc or
postgresql-doc-15 is not installed, since the pages are the ground truth the labels refer to.
"""

from __future__ import annotations

import math

import pytest

from bench.real_docs import bm25, corpus, questions

MISSING = corpus.missing_packages()
needs_pages = pytest.mark.skipif(
    bool(MISSING),
    reason=f"Debian doc packages not installed: apt-get install -y {' '.join(MISSING)}",
)


def test_the_question_file_has_the_promised_mix() -> None:
    qs = questions.load()
    by = {(lang, style): 0 for lang in ("en", "zh") for style in ("keyword", "paraphrase")}
    for q in qs:
        by[q["lang"], q["style"]] += 1
    assert by["en", "keyword"] >= 40 and by["en", "paraphrase"] >= 40
    assert by["zh", "keyword"] + by["zh", "paraphrase"] >= 60
    assert sum(1 for q in qs if q["fact"]) >= 70
    dev = sum(1 for q in qs if q["split"] == "dev") / len(qs)
    assert 0.3 <= dev <= 0.6  # 60 dev questions on new facts joined the first 306 later
    assert sum(1 for q in qs if q["split"] == "test") >= 150  # the held-out figure stays firm


def test_corpus_names_are_distinct_and_prefixed() -> None:
    names = list(corpus.files())
    assert len(names) == len(set(names)) and 60 <= len(names) <= 80
    assert all(n.startswith(("python-", "postgresql-")) and n.endswith(".html") for n in names)


@needs_pages
def test_every_relevant_page_exists_and_every_fact_is_on_it() -> None:
    assert questions.problems(questions.load()) == []


@needs_pages
def test_the_check_reports_a_wrong_page_and_a_fact_not_on_the_page() -> None:
    good = {"qid": "x-1", "lang": "en", "style": "keyword", "split": "dev",
            "question": "json ensure_ascii", "relevant": ["python-json.html"], "fact": "ensure_ascii"}  # fmt: skip
    wrong_fact = good | {"qid": "x-2", "fact": "autovacuum_naptime"}
    wrong_page = good | {"qid": "x-3", "relevant": ["python-nosuchpage.html"]}
    bad_split = good | {"qid": "x-4", "split": "train"}
    found = questions.problems([good, wrong_fact, wrong_page, bad_split])
    assert [line.split(":")[0] for line in found] == ["x-2", "x-3", "x-4"]
    assert "autovacuum_naptime" in found[0] and "python-nosuchpage.html" in found[1]


@needs_pages
def test_page_text_is_the_visible_text_only() -> None:
    text = corpus.page_text("postgresql-sql-vacuum.html")
    assert "VACUUM FULL" in text and "<" not in text[:200] and "stylesheet" not in text


def test_bm25_tokens_drop_stop_words_and_punctuation() -> None:
    assert bm25.tokens("How do I keep the JSON output's ensure_ascii=False?") == [
        "keep", "json", "output", "s", "ensure", "ascii", "false",
    ]  # fmt: skip
    assert bm25.tokens("怎样在写 JSON 时保留中文字符？") == ["写", "json", "保留", "中文", "字符"]


def test_bm25_ranks_by_rare_terms_and_normalises_length() -> None:
    texts = [
        "vacuum vacuum reclaims storage",
        "vacuum " + "filler words here " * 20,
        "autovacuum_naptime sets the delay",
        "nothing relevant",
    ]
    index = bm25.BM25(texts)
    assert index.rank("vacuum") == [0, 1]  # the shorter text with more hits first
    assert index.rank("autovacuum_naptime vacuum")[0] == 2  # the rarer term weighs more
    n, df = 4, 2
    assert index.idf["vacuum"] == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))
    assert index.rank("the of and") == []


def test_verdicts_compare_the_test_split_with_the_targets() -> None:
    from bench.real_docs.run import verdicts

    def legs(keyword: float, vector: float, hybrid: float, zh: float, chunk: float = 0.1) -> dict:
        # At the chunk level each leg scores `chunk` less than at the document level.
        def row(v: float) -> dict:
            return {"test": {"ndcg@10": v, "fact ndcg@10": v - chunk}, "zh-test": {"ndcg@10": zh}}

        return {
            "keyword 0": row(keyword),
            "vector 1": row(vector),
            "hybrid 0.3": row(hybrid),
            "bm25 ref": {"test": {"ndcg@10": 0.7246, "fact ndcg@10": 0.6}},
        }

    met = verdicts(legs(0.8266, 0.8706, 0.9209, 0.864))
    assert [v.endswith(": met") for v in met] == [True] * 5
    assert "+0.0503" in met[1]
    assert met[3].startswith("chunk level: keyword leg >= BM25") and "0.7266 vs 0.6" in met[3]
    short = verdicts(legs(0.72, 0.8706, 0.9205, 0.70, chunk=0.2))
    assert [v.endswith("NOT met") for v in short] == [True] * 5
    assert all("no figure" in v for v in verdicts({}))
    # A run without chunk-level figures (an old results file) says so, not "met".
    old = verdicts(
        {
            leg: {"test": {"ndcg@10": 0.9}}
            for leg in ("keyword 0", "vector 1", "hybrid 0.3", "bm25 ref")
        }
    )
    assert all("no figure" in v for v in old[3:])


def test_the_better_leg_takes_each_question_s_better_figure_and_the_margin_shows_it() -> None:
    from bench.real_docs.run import BETTER_LEG, Outcome, better_leg, verdicts

    outcomes = [
        Outcome("q1", "keyword 0", 1.0, 1.0, 0.1, fact_rank=0, fact_ndcg=0.9),
        Outcome("q1", "vector 1", 0.5, 1.0, 0.1, fact_rank=3, fact_ndcg=0.4),
        Outcome("q1", "hybrid 0.3", 0.2, 0.2, 0.1, fact_rank=None, fact_ndcg=0.1),
        Outcome("q2", "keyword 0", 0.0, 0.0, 0.1, above_threshold=False, fact_ndcg=None),
        Outcome("q2", "vector 1", 0.6, 1.0, 0.1, above_threshold=True, fact_rank=2, fact_ndcg=0.5),
    ]
    best = {o.qid: o for o in better_leg(outcomes)}
    assert {o.leg for o in best.values()} == {BETTER_LEG}
    assert (best["q1"].ndcg, best["q1"].fact_rank, best["q1"].fact_ndcg) == (1.0, 0, 0.9)
    assert (best["q2"].ndcg, best["q2"].fact_rank, best["q2"].fact_ndcg) == (0.6, 2, 0.5)
    assert best["q2"].above_threshold and not best["q1"].above_threshold

    def row(v: float, chunk: float) -> dict:
        return {"test": {"ndcg@10": v, "fact ndcg@10": chunk}, "zh-test": {"ndcg@10": 0.9}}

    table = {
        "keyword 0": row(0.85, 0.6),
        "vector 1": row(0.94, 0.61),
        "hybrid 0.3": row(0.95, 0.72),
        "bm25 ref": row(0.72, 0.53),
        BETTER_LEG: row(0.966, 0.69),
    }
    margin = verdicts(table)[1]
    assert "0.95 vs 0.94, +0.0100 (the better leg per question: 0.966, +0.0260)" in margin
    assert margin.endswith(": NOT met")
    chunk_margin = verdicts(table)[4]
    assert "0.72 vs 0.61, +0.1100 (the better leg per question: 0.69, +0.0800): met" in chunk_margin


def test_the_chunk_level_relevant_set_is_the_fact_chunks_of_relevant_pages() -> None:
    from bench.real_docs.run import fact_chunks, fact_ndcg

    ids = ["a", "b", "c", "d"]
    texts = ["Use --Schema-Only", "pg_dump --schema-only", "--schema-only here too", "other"]
    owners = ["pgdump.html", "pgdump.html", "elsewhere.html", "pgdump.html"]
    q = {"fact": "--schema-only", "relevant": ["pgdump.html"]}
    assert fact_chunks(ids, texts, owners, q) == {"a", "b"}  # not c: not a relevant page
    assert fact_chunks(ids, texts, owners, q | {"fact": None}) == set()
    assert fact_ndcg(["a", "b", "d"], {"a", "b"}) == pytest.approx(1.0)
    assert fact_ndcg(["d", "c", "a"], {"a", "b"}) == pytest.approx(
        (1 / math.log2(4)) / (1 + 1 / math.log2(3))
    )
    assert fact_ndcg(["a"], set()) is None  # no chunk holds the fact: left out


def test_the_fact_chunk_is_found_among_the_first_six_only() -> None:
    from bench.real_docs.run import FACT_DEPTH, fact_rank

    contents = ["pg_dump --data-only", "Use --Schema-Only to dump definitions", "schema"]
    assert fact_rank(contents, "--schema-only") == 1  # case-insensitive, as answers are judged
    assert fact_rank(contents, "pg_dump") == 0
    assert fact_rank(contents, "pg_restore") is None
    assert fact_rank(contents, "") is None
    deep = ["nothing"] * FACT_DEPTH + ["the fact"]
    assert fact_rank(deep, "the fact") is None
