"""Retrieval quality on real documents: document-level nDCG@10 / recall@10 through the real API.

`python -m bench.real_docs` (or `make bench-real`) starts `python -m ragsite.launcher` on free
ports (or uses RAGSITE_URL + RAGSITE_API_KEY), builds or reuses the corpus dataset (build.py),
asks every question of data/questions.jsonl through POST /api/v1/retrieval at
vector_similarity_weight 0 (keyword), 1 (vector) and 0.3 (hybrid, the default), and ranks the
same chunks with a textbook BM25 (bm25.py) fetched through the chunk list API. A leg's document
ranking is the order of each document's first chunk in its hit list. Prints tables per leg,
language, style and split, and writes results-latest.json beside this file (unfiltered runs).

Besides the ranking: the share of questions with at least one chunk of a relevant page at or
above the default similarity_threshold 0.2 (what a chat with the defaults keeps), and for the
questions nothing in the corpus answers (data/no_answer.jsonl) the share that still get a
chunk at or above 0.2 (should be 0). And, for the questions with a fact, the share whose first
chunk holds it (fact@1) and whose first 6 do (fact@6): the chunk order a chat's answer needs.

Chunk level: with every page's chunks relevant, document-level nDCG@10 saturates once one
leg finds nearly every page (the vector leg's 0.94 leaves a fused ranking 0.06 to gain); a
chunk of a relevant page that holds the question's fact is what an answer needs. "fact
nDCG@10" ranks chunks against those (every leg, the BM25 reference too, over the same chunks)
and the verdicts are given at both levels.

"better leg" is not a ranking anyone can run: per question, the higher of the keyword and the
vector leg's figures (nDCG, recall, fact place). It shows how much choosing between the two legs
could give at most, so the "hybrid >= best single leg + 0.05" verdicts say it beside the margin.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.real_docs import build, corpus, questions
from bench.real_docs.bm25 import BM25
from bench.retrieval_quality.run import Api, machine, ndcg, recall

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-latest.json"
LEGS = {"keyword": 0.0, "vector": 1.0, "hybrid": 0.3}
BETTER_LEG = "better leg"
K = 10
# POST /api/v1/retrieval's and a new chat's default similarity_threshold.
DEFAULT_THRESHOLD = 0.2
NO_ANSWER = HERE / "data" / "no_answer.jsonl"
PAGE_SIZE = 30
# A chat gives its model the first top_n (6 by default) chunks: the fact chunk's place among
# them is what the answer benchmark depends on (an answer quotes the fact far more often when
# its chunk comes first).
FACT_DEPTH = 6
GROUPS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "all": lambda q: True,
    "en": lambda q: q["lang"] == "en",
    "zh": lambda q: q["lang"] == "zh",
    "en-kw": lambda q: q["lang"] == "en" and q["style"] == "keyword",
    "en-para": lambda q: q["lang"] == "en" and q["style"] == "paraphrase",
    "zh-kw": lambda q: q["lang"] == "zh" and q["style"] == "keyword",
    "zh-para": lambda q: q["lang"] == "zh" and q["style"] == "paraphrase",
    "dev": lambda q: q["split"] == "dev",
    "test": lambda q: q["split"] == "test",
    "en-test": lambda q: q["lang"] == "en" and q["split"] == "test",
    "zh-test": lambda q: q["lang"] == "zh" and q["split"] == "test",
}


@dataclass
class Outcome:
    qid: str
    leg: str
    ndcg: float
    recall: float
    seconds: float
    top: list[str] = field(default_factory=list)
    # A chunk of a relevant page (any chunk for a no-answer question) scored >= 0.2.
    above_threshold: bool = False
    # Where the first chunk holding the question's fact is (0 = first; None: not in the
    # first FACT_DEPTH, or the question has no fact).
    fact_rank: int | None = None
    # Chunk-level nDCG@10 against the chunks of relevant pages holding the fact (None: no fact).
    fact_ndcg: float | None = None


def fact_rank(contents: Sequence[str], fact: str) -> int | None:
    """The position of the first of `contents` holding `fact` (`questions.normalised`, as the
    answer benchmark judges), within FACT_DEPTH; None when none does."""
    needle = questions.normalised(fact)
    return next(
        (
            i
            for i, text in enumerate(contents[:FACT_DEPTH])
            if needle and needle in questions.normalised(text)
        ),
        None,
    )


def fact_chunks(ids: Sequence[str], texts: Sequence[str], owners: Sequence[str],
                q: dict[str, Any]) -> frozenset[str]:  # fmt: skip
    """Ids of the chunks of the question's relevant pages that hold its fact (judged as
    `fact_rank` judges): the relevant set of the chunk-level nDCG."""
    needle = questions.normalised(q.get("fact") or "")
    relevant = set(q.get("relevant", []))
    if not needle:
        return frozenset()
    return frozenset(
        chunk_id
        for chunk_id, text, owner in zip(ids, texts, owners, strict=True)
        if owner in relevant and needle in questions.normalised(text)
    )


def fact_ndcg(ranked_ids: Sequence[str], relevant_chunks: Set[str]) -> float | None:
    """nDCG@10 of a chunk ranking against `relevant_chunks`; None when there are none (no
    fact, or no chunk holds it whole: a fact split across two chunks)."""
    return ndcg(ranked_ids, relevant_chunks, K) if relevant_chunks else None


def first_seen(names: Sequence[str]) -> list[str]:
    """Documents in the order of their first chunk, each once."""
    return list(dict.fromkeys(names))


def all_chunks(api: Api, dataset_id: str) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """(chunk ids, chunk texts, their document names, {document id: name}) via the chunk list
    API."""
    ids: list[str] = []
    texts: list[str] = []
    owners: list[str] = []
    names: dict[str, str] = {}
    for doc in build.list_documents(api, dataset_id):
        names[str(doc["id"])] = doc["name"]
        page = 1
        while True:
            path = f"/datasets/{dataset_id}/documents/{doc['id']}/chunks"
            data = api.call("GET", path, params={"page": page, "page_size": 1000})
            ids += [str(c["id"]) for c in data["chunks"]]
            texts += [c["content"] for c in data["chunks"]]
            owners += [doc["name"]] * len(data["chunks"])
            if len(data["chunks"]) < 1000:
                break
            page += 1
    return ids, texts, owners, names


def ask(api: Api, q: dict[str, Any], dataset_id: str, names: dict[str, str], leg: str,
        weight: float, relevant_chunks: frozenset[str] = frozenset()) -> Outcome:  # fmt: skip
    body = {
        "question": q["question"],
        "dataset_ids": [dataset_id],
        "vector_similarity_weight": weight,
        "similarity_threshold": 0,
        "page_size": PAGE_SIZE,
        "top_k": 1024,
        "highlight": False,
    }
    started = time.perf_counter()
    data = api.call("POST", "/retrieval", json=body)
    seconds = time.perf_counter() - started
    owners = [names.get(str(c["document_id"]), "?") for c in data["chunks"]]
    ranked = first_seen(owners)
    relevant = set(q.get("relevant", []))
    above = any(
        float(c["similarity"]) >= DEFAULT_THRESHOLD and (not relevant or owner in relevant)
        for c, owner in zip(data["chunks"], owners, strict=True)
    )
    if not relevant:  # a question nothing answers
        return Outcome(q["qid"], leg, 0.0, 0.0, seconds, ranked[:3], above)
    found = fact_rank([c["content"] for c in data["chunks"]], q.get("fact") or "")
    chunk_level = fact_ndcg([str(c["id"]) for c in data["chunks"]], relevant_chunks)
    return Outcome(q["qid"], leg, ndcg(ranked, relevant, K), recall(ranked, relevant, K),
                   seconds, ranked[:3], above, found, chunk_level)  # fmt: skip


def summary(outcomes: list[Outcome], qs: list[dict[str, Any]], legs: list[str]) -> dict[str, Any]:
    """{leg: {group: {n, ndcg@10, recall@10, relevant>=0.2, fact@1, fact@6, fact ndcg@10}}};
    the fact figures are over the group's questions with a fact (fact nDCG: those whose fact a
    chunk holds)."""
    by_qid = {q["qid"]: q for q in qs}
    table: dict[str, Any] = {}
    for leg in legs:
        mine = [o for o in outcomes if o.leg == leg]
        table[leg] = {}
        for group, keep in GROUPS.items():
            sel = [o for o in mine if keep(by_qid[o.qid])]
            if sel:
                table[leg][group] = {
                    "n": len(sel),
                    "ndcg@10": round(statistics.fmean(o.ndcg for o in sel), 4),
                    "recall@10": round(statistics.fmean(o.recall for o in sel), 4),
                    "relevant>=0.2": round(statistics.fmean(o.above_threshold for o in sel), 4),
                }
                facts = [o for o in sel if by_qid[o.qid].get("fact")]
                if facts:
                    table[leg][group]["fact@1"] = round(
                        statistics.fmean(o.fact_rank == 0 for o in facts), 4
                    )
                    table[leg][group][f"fact@{FACT_DEPTH}"] = round(
                        statistics.fmean(o.fact_rank is not None for o in facts), 4
                    )
                chunk_level = [o.fact_ndcg for o in sel if o.fact_ndcg is not None]
                if chunk_level:
                    table[leg][group]["fact ndcg@10"] = round(statistics.fmean(chunk_level), 4)
    return table


def better_leg(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Per question, the better of the keyword and the vector leg in each figure (BETTER_LEG)."""
    legs = (leg_name(LEGS["keyword"]), leg_name(LEGS["vector"]))
    by_qid: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.leg in legs:
            by_qid.setdefault(o.qid, []).append(o)
    best = []
    for qid, pair in by_qid.items():
        ranks = [o.fact_rank for o in pair if o.fact_rank is not None]
        chunk_level = [o.fact_ndcg for o in pair if o.fact_ndcg is not None]
        best.append(
            Outcome(
                qid,
                BETTER_LEG,
                max(o.ndcg for o in pair),
                max(o.recall for o in pair),
                0.0,
                above_threshold=any(o.above_threshold for o in pair),
                fact_rank=min(ranks) if ranks else None,
                fact_ndcg=max(chunk_level) if chunk_level else None,
            )
        )
    return best


def no_answer_summary(outcomes: list[Outcome], qs: list[dict[str, Any]]) -> dict[str, Any]:
    """{leg: {lang: share of no-answer questions with a chunk >= 0.2}}."""
    langs = {q["qid"]: q["lang"] for q in qs}
    table: dict[str, Any] = {}
    for o in outcomes:
        table.setdefault(o.leg, {}).setdefault(langs[o.qid], []).append(o.above_threshold)
    return {
        leg: {lang: {"n": len(v), "above_0.2": round(statistics.fmean(v), 4)}
              for lang, v in row.items()}
        for leg, row in table.items()
    }  # fmt: skip


def latency(outcomes: list[Outcome], leg: str) -> dict[str, float]:
    times = sorted(o.seconds for o in outcomes if o.leg == leg)
    return {
        "p50_ms": round(1000 * statistics.median(times), 1),
        "p95_ms": round(1000 * times[min(len(times) - 1, int(0.95 * len(times)))], 1),
    }


def render(table: dict[str, Any], metric: str) -> str:
    groups = [g for g in GROUPS if any(g in row for row in table.values())]
    lines = [f"{metric:<14}" + "".join(f"{g:>8}" for g in groups)]
    lines.append(" " * 14 + "".join(f"{'n=' + str(next(iter(table.values()))[g]['n']):>8}"
                                     for g in groups))  # fmt: skip
    for leg, row in table.items():
        cells = "".join(f"{row[g][metric]:>8.3f}" if g in row else f"{'-':>8}" for g in groups)
        lines.append(f"{leg:<14}{cells}")
    return "\n".join(lines)


def verdicts(table: dict[str, Any]) -> list[str]:
    """Issue 11's quality targets on the held-out test split, as lines "target: figure: met":
    document-level nDCG@10 (the issue's measure), then the first two at the chunk level."""
    keyword, vector, hybrid, reference, better = (
        table.get(leg, {})
        for leg in ("keyword 0", "vector 1", "hybrid 0.3", "bm25 ref", BETTER_LEG)
    )

    def value(row: dict[str, Any], group: str, metric: str = "ndcg@10") -> float | None:
        return row.get(group, {}).get(metric)

    def line(target: str, figure: float | None, bound: float | None, shown: str) -> str:
        if figure is None or bound is None:
            return f"{target}: no figure (filtered run)"
        met = "met" if round(figure, 4) >= round(bound, 4) else "NOT met"
        return f"{target}: {shown}: {met}"

    kw, ref = value(keyword, "test"), value(reference, "test")
    vec, hyb = value(vector, "test"), value(hybrid, "test")
    best = max(kw, vec) if kw is not None and vec is not None else None
    zh = value(hybrid, "zh-test")
    metric = "fact ndcg@10"
    c_kw, c_ref = value(keyword, "test", metric), value(reference, "test", metric)
    c_vec, c_hyb = value(vector, "test", metric), value(hybrid, "test", metric)
    c_best = max(c_kw, c_vec) if c_kw is not None and c_vec is not None else None

    def ceiling(figure: float | None, base: float | None) -> str:
        # What choosing the better leg for each question would give: the room fusion has.
        if figure is None or base is None:
            return ""
        return f" (the better leg per question: {figure}, {figure - base:+.4f})"

    return [
        line("keyword leg >= BM25 reference (test)", kw, ref, f"{kw} vs {ref}"),
        line(
            "hybrid >= best single leg + 0.05 (test)",
            hyb,
            None if best is None else best + 0.05,
            f"{hyb} vs {best}, {(hyb or 0) - (best or 0):+.4f}"
            + ceiling(value(better, "test"), best),
        ),
        line("Chinese questions, hybrid >= 0.75 (test)", zh, 0.75, f"{zh}"),
        line(
            "chunk level: keyword leg >= BM25 reference (test)", c_kw, c_ref, f"{c_kw} vs {c_ref}"
        ),
        line(
            "chunk level: hybrid >= best single leg + 0.05 (test)",
            c_hyb,
            None if c_best is None else c_best + 0.05,
            f"{c_hyb} vs {c_best}, {(c_hyb or 0) - (c_best or 0):+.4f}"
            + ceiling(value(better, "test", metric), c_best),
        ),
    ]


def leg_name(weight: float) -> str:
    named = {v: k for k, v in LEGS.items()}
    return f"{named[weight]} {weight:g}" if weight in named else f"w={weight:g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm",
                        help=f"embedding model: {', '.join(build.MODELS)} or a full name")  # fmt: skip
    parser.add_argument("--var-dir", type=Path, help="keep the launched server's data here")
    parser.add_argument("--keep", action="store_true",
                        help=f"same as --var-dir {build.DEFAULT_VAR_DIR}")  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="delete the dataset, parse again")
    parser.add_argument("--lang", choices=["en", "zh"])
    parser.add_argument("--split", choices=["dev", "test"])
    parser.add_argument("--weights", default="",
                        help="extra vector_similarity_weight values, comma-separated")  # fmt: skip
    parser.add_argument("--out", type=Path,
                        help="results file (default: results-latest.json when unfiltered)")  # fmt: skip
    args = parser.parse_args()
    model = build.MODELS.get(args.model, args.model)
    var_dir = args.var_dir or (build.DEFAULT_VAR_DIR if args.keep else None)
    weights = list(LEGS.values()) + [float(w) for w in args.weights.split(",") if w.strip()]
    weights = list(dict.fromkeys(weights))
    qs = questions.select(questions.load(), args.lang, args.split)
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with build.server(var_dir) as srv:
        api = Api(srv)
        timings["server_start_s"] = round(time.monotonic() - started, 1)
        t0 = time.monotonic()
        name = build.dataset_name(model)
        dataset_id = build.build_dataset(srv.url, srv.api_key, name, model, rebuild=args.rebuild)
        timings["build_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        ids, texts, owners, names = all_chunks(api, dataset_id)
        timings["fetch_chunks_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        bm25 = BM25(texts)
        timings["bm25_index_s"] = round(time.monotonic() - t0, 1)
        print(f"{len(texts)} chunks in {len(names)} documents; {len(qs)} questions", flush=True)
        t0 = time.monotonic()
        for n, q in enumerate(qs, 1):
            chunks = fact_chunks(ids, texts, owners, q)
            for w in weights:
                outcomes.append(ask(api, q, dataset_id, names, leg_name(w), w, chunks))
            b0 = time.perf_counter()
            hits = bm25.rank(q["question"])
            ranked = first_seen([owners[i] for i in hits])
            relevant = set(q["relevant"])
            outcomes.append(Outcome(q["qid"], "bm25 ref", ndcg(ranked, relevant, K),
                                    recall(ranked, relevant, K), time.perf_counter() - b0,
                                    ranked[:3], False,
                                    fact_rank([texts[i] for i in hits[:FACT_DEPTH]],
                                              q.get("fact") or ""),
                                    fact_ndcg([ids[i] for i in hits[:K]], chunks)))  # fmt: skip
            if n % 50 == 0:
                print(f"   {n}/{len(qs)} questions", flush=True)
        timings["questions_s"] = round(time.monotonic() - t0, 1)
        unanswerable = questions.select(questions.load(NO_ANSWER), args.lang, args.split)
        unanswered = [
            ask(api, q, dataset_id, names, leg_name(w), w) for q in unanswerable for w in weights
        ]
    timings["total_s"] = round(time.monotonic() - started, 1)
    legs = [leg_name(w) for w in weights] + ["bm25 ref"]
    table = summary(outcomes + better_leg(outcomes), qs, [*legs, BETTER_LEG])
    info = machine() | {
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    lat = {leg: latency(outcomes, leg) for leg in legs}
    versions = corpus.versions()
    print(f"\nReal-document retrieval, {info['date']}: {info['nproc']} CPUs, load "
          f"{info['loadavg_before']} -> {info['loadavg_after']}; model {model}; "
          f"pages {versions}")  # fmt: skip
    print(f"{len(names)} documents, {len(texts)} chunks; document-level, k={K}\n")
    print(render(table, "ndcg@10"))
    print()
    print(render(table, "recall@10"))
    print(
        f"\nshare of questions with a chunk of a relevant page at similarity >= "
        f"{DEFAULT_THRESHOLD} (the default threshold; bm25 ref has no similarity):"
    )
    # The reference has no similarities, and the better leg is no ranking of its own.
    api_legs = {k: v for k, v in table.items() if k not in ("bm25 ref", BETTER_LEG)}
    print(render(api_legs, "relevant>=0.2"))
    print(
        "\nshare of questions (those with a fact) whose fact is in the first chunk, and in the "
        f"first {FACT_DEPTH} (a chat's default top_n):"
    )
    print(render(table, "fact@1"))
    print()
    print(render(table, f"fact@{FACT_DEPTH}"))
    print(
        f"\nchunk level: nDCG@{K} against the chunks of relevant pages that hold the question's "
        "fact (questions whose fact a chunk holds):"
    )
    print(render(table, "fact ndcg@10"))
    no_answer = no_answer_summary(unanswered, unanswerable)
    print(
        f"\nquestions nothing answers ({NO_ANSWER.name}): share with any chunk >= "
        f"{DEFAULT_THRESHOLD} (should be 0)"
    )
    for leg, row in no_answer.items():
        cells = ", ".join(f"{lang} {c['above_0.2']:.2f} (n={c['n']})" for lang, c in row.items())
        print(f"  {leg:<12} {cells}")
    print("\nlatency per /retrieval call (client side):")
    for leg in legs[:-1]:
        print(f"  {leg:<12} p50 {lat[leg]['p50_ms']:.0f} ms, p95 {lat[leg]['p95_ms']:.0f} ms")
    print(f"timings: {timings}")
    print("\ntargets (nDCG@10, default request; document level, then chunk level):")
    for verdict in verdicts(table):
        print(f"  {verdict}")

    out = args.out or (None if args.lang or args.split else RESULTS)
    if out is None:
        print("filtered run: no results file written (use --out)")
        return 0
    per_question: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        per_question.setdefault(o.qid, {})[o.leg] = {
            "ndcg": round(o.ndcg, 4),
            "top3": o.top,
            "fact_rank": o.fact_rank,
            "fact_ndcg": None if o.fact_ndcg is None else round(o.fact_ndcg, 4),
        }
    payload = {
        "machine": info,
        "model": model,
        "dataset": name,
        "package_versions": versions,
        "counts": {"documents": len(names), "chunks": len(texts), "questions": len(qs)},
        "request": {
            "similarity_threshold": 0,
            "page_size": PAGE_SIZE,
            "top_k": 1024,
            "highlight": False,
            "weights": weights,
        },  # fmt: skip
        "timings": timings,
        "latency": lat,
        "results": table,
        "no_answer": no_answer,
        "per_question": per_question,
    }
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    runs = previous.get("runs", {}) if isinstance(previous, dict) else {}
    runs[model] = payload
    out.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {out} (runs: {', '.join(runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
