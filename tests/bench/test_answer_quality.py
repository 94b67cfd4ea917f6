"""The answer benchmark's judge: fact in the answer, in a cited chunk, in any retrieved chunk."""

from __future__ import annotations

from bench.answer_quality.run import judge, percentile

QUESTION = {"qid": "en-1", "lang": "en", "style": "keyword", "split": "dev", "fact": "ensure_ascii"}


def _data(answer: str, *contents: str) -> dict:
    return {"answer": answer, "reference": {"chunks": [{"content": c} for c in contents]}}


def test_fact_in_answer_and_in_the_cited_chunk() -> None:
    data = _data(
        "If  ENSURE_ASCII is false, characters are kept. [ID:1]",
        "Unrelated text.",
        "If ensure_ascii is false, characters are kept.",
    )
    outcome = judge(QUESTION, data, 0.1, {"Sorry!"})
    assert outcome.fact_in_answer and outcome.fact_in_citations and outcome.fact_retrieved
    assert outcome.answered


def test_a_citation_of_the_wrong_chunk_does_not_count() -> None:
    data = _data("ensure_ascii keeps text. [ID:0]", "Unrelated.", "ensure_ascii keeps text.")
    outcome = judge(QUESTION, data, 0.1, set())
    assert outcome.fact_in_answer and not outcome.fact_in_citations and outcome.fact_retrieved


def test_markers_do_not_join_words_and_no_answer_is_not_answered() -> None:
    data = _data("ensure[ID:0]_ascii", "ensure_ascii")
    assert not judge(QUESTION, data, 0.1, set()).fact_in_answer
    outcome = judge(QUESTION, _data("Sorry!"), 0.1, {"Sorry!"})
    assert not outcome.answered and not outcome.fact_retrieved


def test_percentile() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile(list(map(float, range(101))), 0.95) == 95.0
    assert percentile([], 0.5) == 0.0
