"""Ranking variants on the real-document benchmark, in this process, against a kept dataset.

    RAGSITE_VAR_DIR=/var/tmp/ragsite-real-docs .venv/bin/python -m bench.retrieval_tuning \\
        [--dataset real-docs-default] [--split dev] [--variant NAME ...]

`bench/real_docs` builds the dataset through the API (a server whose data dir is kept); this
connects Django to that server's PostgreSQL and calls `knowledge.retrieval.retrieve` directly,
so a variant of the ranking (module constants switched for the run) costs seconds, not a
re-parse. Document-level nDCG@10 per method (keyword 0 / vector 1 / hybrid 0.3) and language,
next to bench/real_docs' textbook BM25 over the same chunks.
Tune on "dev" only; "test" is for reporting.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "bench" / "real_docs" / "data" / "questions.jsonl"
METHODS = {"keyword": 0.0, "vector": 1.0, "hybrid": 0.3}
K = 10


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()


def ndcg(ranked_docs: list[str], relevant: set[str], k: int = K) -> float:
    seen: list[str] = []
    for doc in ranked_docs:
        if doc not in seen:
            seen.append(doc)
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(seen[:k]) if d in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


VARIANTS: dict[str, dict[str, Any]] = {
    "current": {},
    "raw-cosine": {"scoring.VECTOR_SCALING": "raw"},
    "minmax-cosine": {"scoring.VECTOR_SCALING": "minmax"},
    "no-translation": {"translate": False},
    "no-inflections": {"scoring.INFLECTIONS": False},
    "max-nofloor": {"scoring.VECTOR_FLOOR": 0.0},
    "max-floor-0.6": {"scoring.VECTOR_FLOOR": 0.6},
    "keyword-boost-1": {"scoring.KEYWORD_BOOST": 1},
    "no-hybrid-tf-cap": {"scoring.HYBRID_TF_CAP": None},
    "hybrid-tf-cap-1.5": {"scoring.HYBRID_TF_CAP": 1.5},
    "floor-0.7": {"scoring.VECTOR_FLOOR": 0.7},
    "no-document-evidence": {"scoring.DOCUMENT_EVIDENCE": 0.0},
    "document-evidence-0.3": {"scoring.DOCUMENT_EVIDENCE": 0.3},
    "no-answer-confidence": {"scoring.UNRELATED_BEST": 0.0, "scoring.CONFIDENT_BEST": 0.0},
    "budget-20000": {
        "retrieval.CANDIDATE_POSTINGS_BUDGET": 20000,
        "retrieval.KEYWORD_CANDIDATES": 1000,
    },
}


@contextmanager
def variant(settings: dict[str, Any]) -> Iterator[None]:
    from knowledge import crosslingual, retrieval, scoring

    modules = {"retrieval": retrieval, "scoring": scoring, "crosslingual": crosslingual}
    saved: list[tuple[Any, str, Any]] = []
    for key, value in settings.items():
        if "." not in key:
            continue
        module_name, attr = key.split(".", 1)
        module = modules[module_name]
        saved.append((module, attr, getattr(module, attr)))
        setattr(module, attr, value)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="real-docs-default")
    parser.add_argument("--split", default="dev", choices=["dev", "test", "all"])
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--per-question", action="store_true")
    parser.add_argument("--weights", default="", help="extra hybrid weights, e.g. 0.5,0.7")
    parser.add_argument(
        "--before",
        type=Path,
        help="also rank with this older copy of knowledge/retrieval.py (e.g. from git show)",
    )
    args = parser.parse_args()
    _setup()
    for extra in filter(None, args.weights.split(",")):
        METHODS[f"w{extra}"] = float(extra)
    from knowledge import crosslingual, embeddings, retrieval
    from knowledge.models import Chunk, Dataset

    dataset = Dataset.objects.get(name=args.dataset)
    names = dict(dataset.documents.values_list("pk", "name"))
    questions = [json.loads(line) for line in args.questions.open() if line.strip()]
    if args.split != "all":
        questions = [q for q in questions if q["split"] == args.split]
    chunks = list(
        Chunk.objects.filter(dataset=dataset, available=True).values_list("document_id", "content")
    )
    started = time.monotonic()
    from bench.real_docs.bm25 import BM25

    bm25 = BM25([c for _, c in chunks])
    chunk_docs = [names[d] for d, _ in chunks]
    print(f"{dataset.name}: {len(chunks)} chunks, {len(names)} documents, {len(questions)} "
          f"questions ({args.split}); BM25 reference built in {time.monotonic() - started:.1f} s")  # fmt: skip

    vectors: dict[tuple[str, bool], list[float]] = {}

    def vector(question: str, translate: bool) -> list[float]:
        key = (question, translate)
        if key not in vectors:
            text = (
                crosslingual.embedding_text(dataset.embedding_model, question)
                if translate
                else question
            )
            vectors[key] = embeddings.embed_query(dataset.embedding_model, text).tolist()
        return vectors[key]

    rows: dict[str, dict[str, list[float]]] = {}
    ref: dict[str, list[float]] = defaultdict(list)
    for q in questions:
        ranked = [chunk_docs[i] for i in bm25.rank(q["question"])]
        ref[q["lang"]].append(ndcg(ranked, set(q["relevant"])))
    runs = [(name, VARIANTS[name], retrieval) for name in args.variant or ["current"]]
    if args.before:
        import importlib.util

        spec = importlib.util.spec_from_file_location("retrieval_before", args.before)
        assert spec and spec.loader
        before = importlib.util.module_from_spec(spec)
        sys.modules["retrieval_before"] = before  # dataclasses look their module up
        spec.loader.exec_module(before)
        runs.insert(0, ("before", {"translate": False}, before))
    for name, settings, module in runs:
        translate = settings.get("translate", True)
        per: dict[str, list[float]] = defaultdict(list)
        timings: list[float] = []
        with variant(settings):
            saved_cjk = crosslingual.has_cjk
            if not translate:
                setattr(crosslingual, "has_cjk", lambda text: False)  # noqa: B010
            try:
                for q in questions:
                    for method, w in METHODS.items():
                        query = module.Query(
                            question=q["question"],
                            scope=module.Scope([dataset.pk]),
                            embedding=vector(q["question"], translate),
                            vector_similarity_weight=w,
                            similarity_threshold=0.0,
                            page_size=50,
                            highlight=False,
                        )
                        t0 = time.perf_counter()
                        result = module.retrieve(query, total_chunks=dataset.chunk_count)
                        timings.append(time.perf_counter() - t0)
                        docs = [names[h.document_id] for h in result.hits]
                        score = ndcg(docs, set(q["relevant"]))
                        per[f"{method}/{q['lang']}"].append(score)
                        per[f"{method}/all"].append(score)
                        if args.per_question and method == "hybrid":
                            print(f"  {q['qid']} {score:.2f} {q['question'][:60]}")
            finally:
                setattr(crosslingual, "has_cjk", saved_cjk)  # noqa: B010
        rows[name] = per
        timings.sort()
        print(f"[{name}] retrieve() p50 {1000 * timings[len(timings) // 2]:.1f} ms, "
              f"p95 {1000 * timings[int(len(timings) * 0.95)]:.1f} ms")  # fmt: skip

    langs = sorted({q["lang"] for q in questions}) + ["all"]
    header = f"{'variant':16} {'method':8} " + " ".join(f"{lang:>6}" for lang in langs)
    print(header)
    all_ref = [s for lang in ref for s in ref[lang]]
    print(f"{'BM25 reference':16} {'':8} " + " ".join(
        f"{(sum(ref[lang]) / len(ref[lang]) if lang != 'all' else sum(all_ref) / len(all_ref)):6.3f}"
        for lang in langs))  # fmt: skip
    for name, per in rows.items():
        for method in METHODS:
            cells = []
            for lang in langs:
                scores = per.get(f"{method}/{lang}", [])
                cells.append(f"{sum(scores) / len(scores):6.3f}" if scores else "     -")
            print(f"{name:16} {method:8} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
