"""The answer benchmark's judge: fact in the answer, in a cited chunk, in any retrieved chunk."""

from __future__ import annotations

from bench.answer_quality.run import by_fact_place, judge, percentile

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


def test_answers_are_counted_by_where_retrieval_put_the_fact() -> None:
    """The reference lists cited chunks first; the fact's place is by similarity."""

    def chunk(content: str, similarity: float) -> dict:
        return {"id": content[:8], "content": content, "similarity": similarity}

    first = {
        "answer": "ensure_ascii [ID:0]",
        "reference": {"chunks": [chunk("ensure_ascii is a flag", 0.9), chunk("other", 0.5)]},
    }
    later = {
        "answer": "Other text. [ID:0]",
        "reference": {"chunks": [chunk("other", 0.4), chunk("ensure_ascii is a flag", 0.3)]},
    }
    nowhere = {"answer": "Sorry!", "reference": {"chunks": []}}
    outcomes = [
        judge(QUESTION, first, 0.1, set()),
        judge(QUESTION, later, 0.1, set()),
        judge(QUESTION, nowhere, 0.1, {"Sorry!"}, [chunk("unrelated", 0.3)]),
        judge(QUESTION | {"split": "test"}, nowhere, 0.1, {"Sorry!"}, [chunk("ensure_ascii", 0.2)]),
    ]
    assert [o.fact_rank for o in outcomes] == [0, 1, None, 0]
    places = by_fact_place(outcomes)
    assert places["dev"] == {
        "first chunk": {"questions": 1, "fact_in_answer": 1.0},
        "a later chunk": {"questions": 1, "fact_in_answer": 0.0},
        "not retrieved": {"questions": 1, "fact_in_answer": 0.0},
    }
    assert places["test"] == {"first chunk": {"questions": 1, "fact_in_answer": 0.0}}
