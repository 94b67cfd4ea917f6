"""Ask the built-in answerer again, in-process, over the chunks a benchmark run retrieved.

`python -m bench.answer_quality --save-references refs.jsonl` keeps every question's retrieved
chunks (retrieval order); `python -m bench.answer_quality.replay refs.jsonl --split dev` gives
them to chat.llm.extractive.compose_answer again and judges the answers as the benchmark does
(fact in answer, fact in a cited chunk, fact retrieved). Answer selection can so be compared
in seconds without a server and with retrieval held still; the figure to report is still the
full benchmark through the API. Latency here is the answerer alone (embeddings included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("references", type=Path, help="JSON lines from --save-references")
    parser.add_argument("--split", choices=["dev", "test"], default=None, help="only this split")
    parser.add_argument("--lang", choices=["en", "zh"], default=None, help="only this language")
    parser.add_argument(
        "--embedding-model",
        default="sentence-transformers/all-MiniLM-L6-v2@Builtin",
        help="the dataset's embedding model",
    )
    parser.add_argument("--show", type=int, default=0, help="print this many missed answers")
    parser.add_argument("--only", default="", help="comma-separated qids to ask")
    parser.add_argument("--full", action="store_true", help="print whole answers and chunks")
    parser.add_argument("--write", type=Path, default=None, help="every outcome as JSON lines")
    parser.add_argument("--set", action="append", default=[], help="NAME=value of the answerer")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")
    import django

    django.setup()
    from bench.answer_quality.run import (
        Outcome,
        by_fact_place,
        judge,
        percentile,
        place_table,
        summary,
        table,
        without_markers,
    )
    from bench.real_docs import questions
    from chat.llm import extractive
    from chat.llm.base import ChatRequest, KnowledgeChunk
    from chat.llm.extractive import NOT_FOUND_EN, NOT_FOUND_ZH, compose_answer
    from chat.services.citations import AnswerOrder

    # Tuning: override a constant of the answerer, e.g. --set MAX_UNITS=5 (not for reports).
    for setting in args.set:
        name, _, value = setting.partition("=")
        current = getattr(extractive, name)
        setattr(extractive, name, type(current)(value))

    saved = {
        row["qid"]: row["chunks"]
        for row in map(json.loads, args.references.read_text(encoding="utf-8").splitlines())
    }
    only = {q for q in args.only.split(",") if q}
    chosen = [
        q
        for q in questions.select(questions.load(), lang=args.lang, split=args.split)
        if q["fact"] and q["qid"] in saved and (not only or q["qid"] in only)
    ]
    outcomes: list[Outcome] = []
    for q in chosen:
        chunks = saved[q["qid"]]
        started = time.perf_counter()
        if chunks:
            request = ChatRequest(
                system="",
                history=[],
                question=q["question"],
                knowledge=[
                    KnowledgeChunk(index=i, content=c["content"], document_name=c["document_name"])
                    for i, c in enumerate(chunks)
                ],
                embedding_model=args.embedding_model,
            )
            raw = compose_answer(request)
        else:
            raw = NOT_FOUND_ZH if q["lang"] == "zh" else NOT_FOUND_EN
        seconds = time.perf_counter() - started
        # As the service does: citations renumbered in answer order, cited chunks first.
        order = AnswerOrder(len(chunks))
        answer = order.text(raw)
        reference = {"chunks": order.reorder(chunks)}
        outcome = judge(q, {"answer": answer, "reference": reference}, seconds, set())
        outcome.answered = raw not in (NOT_FOUND_EN, NOT_FOUND_ZH)
        outcome.answer = answer
        outcomes.append(outcome)
        if args.full and only:
            print(f"== {q['qid']} {q['question']!r} fact {q['fact']!r}\n{answer}\n")
            for i, c in enumerate(chunks):
                print(f"--- chunk {i} sim {c['similarity']:.3f}\n{c['content']}\n")
    if args.write:
        args.write.write_text(
            "".join(json.dumps(asdict(o), ensure_ascii=False) + "\n" for o in outcomes),
            encoding="utf-8",
        )
    by_qid = {q["qid"]: q for q in chosen}
    results = summary(outcomes, by_qid)
    print(table(results))
    print(place_table(by_fact_place(outcomes)))
    times = [o.seconds for o in outcomes]
    if times:
        print(
            f"answerer alone: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p95 {percentile(times, 0.95) * 1000:.0f} ms"
        )
        # What a user reads: the answer without its citation markers.
        lengths = [float(len(without_markers(o.answer).strip())) for o in outcomes if o.answered]
        print(
            f"answer length (answered, characters): p50 {statistics.median(lengths):.0f}, "
            f"p95 {percentile(lengths, 0.95):.0f}, max {max(lengths):.0f}"
        )
    missed = [o for o in outcomes if not o.fact_in_answer and o.fact_retrieved]
    for o in missed[: args.show]:
        print(f"\n-- {o.qid} {by_qid[o.qid]['question']!r} fact {o.fact!r}\n   {o.answer[:500]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
