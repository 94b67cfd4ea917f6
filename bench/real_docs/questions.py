"""The labelled questions (data/questions.jsonl) and `--check`, which verifies them offline.

`python -m bench.real_docs.questions --check`: every `relevant` file is in the corpus list and
installed, every `fact` occurs verbatim in the visible text of at least one relevant page, the
fields have the shared format, and qids are unique. Exit status 1 with one line per problem.
Without `--check` it prints the counts per language, style and split.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.real_docs import corpus

PATH = Path(__file__).resolve().parent / "data" / "questions.jsonl"
FIELDS = {"qid", "lang", "style", "split", "question", "relevant", "fact"}
CHOICES = {"lang": {"en", "zh"}, "style": {"keyword", "paraphrase"}, "split": {"dev", "test"}}


def load(path: Path = PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def normalised(text: str) -> str:
    """Text as a fact is looked for in it, by this benchmark and the answer benchmark alike:
    case-folded, runs of whitespace as one space."""
    return " ".join(text.casefold().split())


def select(
    questions: list[dict[str, Any]], lang: str | None = None, split: str | None = None
) -> list[dict[str, Any]]:
    return [
        q
        for q in questions
        if (lang is None or q["lang"] == lang) and (split is None or q["split"] == split)
    ]


def problems(questions: list[dict[str, Any]]) -> list[str]:
    """Everything wrong with the questions, one line each (empty when all is well)."""
    pages = corpus.files()
    out: list[str] = []
    seen: set[str] = set()
    for n, q in enumerate(questions, 1):
        qid = q.get("qid", f"line {n}")
        if set(q) != FIELDS:
            out.append(f"{qid}: fields {sorted(q)} != {sorted(FIELDS)}")
            continue
        if qid in seen:
            out.append(f"{qid}: duplicate qid")
        seen.add(qid)
        out += [
            f"{qid}: {k} {q[k]!r} not in {sorted(v)}" for k, v in CHOICES.items() if q[k] not in v
        ]
        if not q["question"].strip() or not q["relevant"]:
            out.append(f"{qid}: empty question or relevant list")
        unknown = [r for r in q["relevant"] if r not in pages]
        out += [f"{qid}: relevant {r!r} is not in the corpus list" for r in unknown]
        absent = [r for r in q["relevant"] if r in pages and not pages[r].is_file()]
        out += [f"{qid}: {pages[r]} is not installed" for r in absent]
        checkable = q["fact"] is not None and not unknown and not absent
        if checkable and not any(q["fact"] in corpus.page_text(r) for r in q["relevant"]):
            out.append(f"{qid}: fact {q['fact']!r} occurs in none of {q['relevant']}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify relevant pages and facts")
    args = parser.parse_args()
    questions = load()
    counts = Counter((q["lang"], q["style"], q["split"]) for q in questions)
    facts = sum(1 for q in questions if q["fact"] is not None)
    print(f"{len(questions)} questions, {facts} with a fact; {dict(sorted(counts.items()))}")
    if not args.check:
        return 0
    if corpus.missing_packages():
        print(f"cannot check: install {' '.join(corpus.missing_packages())}", file=sys.stderr)
        return 2
    found = problems(questions)
    for line in found:
        print(line)
    print(f"{len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
