"""Build the labelled retrieval set: data/corpus.jsonl and data/questions.jsonl (deterministic).

Run `python -m bench.retrieval_quality.generate` to rewrite both files, `--check` to verify that
the committed files are what this code produces. Passages come from seeded templates over
fictional entities (products, companies, towns, species, services) in English and Chinese; every
passage records the facts it states, every candidate question the facts it pins, and a
question's relevant passages are *computed* as all passages of the same domain and aspect that
state those facts (questions matching more than MAX_RELEVANT passages are not used).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

from bench.retrieval_quality import (
    en_animals,
    en_cities,
    en_hr,
    en_products,
    en_runbooks,
    zh_animals,
    zh_cities,
    zh_hr,
    zh_products,
    zh_runbooks,
)
from bench.retrieval_quality.common import KINDS, Draft, Q

SEED = 20240611
DATA = Path(__file__).resolve().parent / "data"
MAX_RELEVANT = 3
TARGET_QUESTIONS = {"en": 260, "zh": 160}
# Share of each question kind, fixed before any retrieval was run (see README.md).
KIND_WEIGHTS = {"lexical": 0.20, "paraphrase": 0.35, "exact": 0.30, "descriptive": 0.15}
BUILDERS: dict[str, list[Callable[[random.Random], list[Draft]]]] = {
    "en": [en_products.build, en_hr.build, en_cities.build, en_animals.build, en_runbooks.build],
    "zh": [zh_products.build, zh_hr.build, zh_cities.build, zh_animals.build, zh_runbooks.build],
}

Row = dict[str, object]


def relevant_to(q: Q, source: Draft, drafts: list[Draft]) -> list[int]:
    """Indexes of the passages (same domain and aspect) stating every fact `q` pins."""
    wanted = {key: source.facts[key] for key in q.keys}
    return [
        i
        for i, d in enumerate(drafts)
        if d.domain == source.domain
        and d.aspect == source.aspect
        and all(d.facts.get(k) == v for k, v in wanted.items())
    ]


def pick_questions(
    rng: random.Random, drafts: list[Draft], target: int
) -> list[tuple[Q, list[int]]]:
    """`target` questions spread evenly over domains, kinds drawn by KIND_WEIGHTS.

    Each passage is the source of at most one question.
    """
    domains = sorted({d.domain for d in drafts})
    picked: list[tuple[Q, list[int]]] = []
    used: set[int] = set()
    for n, domain in enumerate(domains):
        quota = target // len(domains) + (1 if n < target % len(domains) else 0)
        pools: dict[str, list[tuple[int, Q]]] = {kind: [] for kind in KINDS}
        for i, draft in enumerate(drafts):
            if draft.domain == domain:
                for q in draft.questions:
                    pools[q.kind].append((i, q))
        for pool in pools.values():
            rng.shuffle(pool)
        while quota > 0:
            kinds = [k for k in KINDS if pools[k]]
            if not kinds:
                raise RuntimeError(f"{domain}: ran out of candidate questions")
            kind = rng.choices(kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]
            i, q = pools[kind].pop()
            if i in used:
                continue
            relevant = relevant_to(q, drafts[i], drafts)
            assert i in relevant, (q, drafts[i])
            if len(relevant) > MAX_RELEVANT:
                continue
            used.add(i)
            picked.append((q, relevant))
            quota -= 1
    return picked


def build() -> tuple[list[Row], list[Row]]:
    corpus: list[Row] = []
    questions: list[Row] = []
    for lang, builders in BUILDERS.items():
        rng = random.Random(f"{SEED}-{lang}")
        drafts = [draft for build_domain in builders for draft in build_domain(rng)]
        for d in drafts:
            if "entity" in d.facts and d.facts["entity"] not in d.text:
                raise AssertionError(f"passage does not name its entity: {d.text}")
        if len({d.text for d in drafts}) != len(drafts):
            raise AssertionError(f"{lang}: duplicate passages")
        rng.shuffle(drafts)  # ids say nothing about domain or entity
        pids = [f"{lang}-{i:05d}" for i in range(len(drafts))]
        for pid, d in zip(pids, drafts, strict=True):
            corpus.append({"pid": pid, "lang": lang, "title": d.title, "text": d.text,
                           "domain": d.domain, "aspect": d.aspect})  # fmt: skip
        picked = pick_questions(rng, drafts, TARGET_QUESTIONS[lang])
        rng.shuffle(picked)
        for n, (q, relevant) in enumerate(picked):
            source = drafts[relevant[0]]
            questions.append({"qid": f"{lang}-q{n:04d}", "lang": lang, "question": q.text,
                              "relevant": [pids[i] for i in relevant], "kind": q.kind,
                              "domain": source.domain})  # fmt: skip
    return corpus, questions


def dump(rows: list[Row]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def summary(corpus: list[Row], questions: list[Row]) -> str:
    lines = []
    for lang in TARGET_QUESTIONS:
        docs = [r for r in corpus if r["lang"] == lang]
        qs = [r for r in questions if r["lang"] == lang]
        domains = Counter(str(r["domain"]) for r in docs)
        kinds = Counter(str(r["kind"]) for r in qs)
        multi = len([r for r in qs if len(cast(list[str], r["relevant"])) > 1])
        lines.append(
            f"{lang}: {len(docs)} passages {dict(sorted(domains.items()))}; {len(qs)} questions "
            f"{dict(sorted(kinds.items()))}, {multi} with more than one relevant passage"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if data/ is not up to date")
    args = parser.parse_args()
    corpus, questions = build()
    files = {DATA / "corpus.jsonl": dump(corpus), DATA / "questions.jsonl": dump(questions)}
    if args.check:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text() != text]
        if stale:
            print(f"out of date: {', '.join(stale)}; run generate.py", file=sys.stderr)
            return 1
        print("data/ is up to date")
        return 0
    DATA.mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(summary(corpus, questions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
