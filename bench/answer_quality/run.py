"""Answer quality of the built-in model on real documents, through the real chat API.

`python -m bench.answer_quality` (or `make bench-answers`) starts `python -m ragsite.launcher` on
free ports (or uses RAGSITE_URL + RAGSITE_API_KEY), builds or reuses the corpus dataset of
bench/real_docs (build.py: 78 Debian documentation pages, parsed through the API), creates a chat
assistant on it with the built-in model `ragsite-extractive@Builtin` and the chat defaults, and
asks every question of bench/real_docs/data/questions.jsonl that has a `fact` through
POST /api/v1/chats/{id}/completions (non-streaming, a new session per question). Per question:

- fact in answer: the fact occurs in the answer (case-insensitive, whitespace-normalised,
  citation markers removed);
- fact in citations: a chunk the answer cites (`[ID:n]` → reference.chunks[n]) holds the fact;
- fact retrieved: some chunk of the reference holds it (the ceiling retrieval leaves the answerer);
- answered: the answer is not the no-answer text;
- latency: the completion request, wall clock.

Also, per split, fact in answer by where retrieval put the fact's chunk: first, later among the
chunks the chat was given (top_n), or nowhere: how much is the answerer's to win and how much
retrieval's order.

Shares and latency p50/p95 per language and split; results-latest.json beside this file
(unfiltered runs). Tune on the dev split only; the test split is the figure to report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.real_docs import build, questions
from bench.retrieval_quality.run import Api, machine
from chat.llm.extractive import NOT_FOUND_ZH

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-latest.json"
BUILTIN = "ragsite-extractive@Builtin"
DEFAULT_VAR_DIR = build.DEFAULT_VAR_DIR  # one parse of the corpus serves every benchmark
CITATION = re.compile(r"\[ID:(\d+)\]")
GROUPS = {
    "all": lambda q: True,
    "dev": lambda q: q["split"] == "dev",
    "test": lambda q: q["split"] == "test",
    "en-dev": lambda q: q["lang"] == "en" and q["split"] == "dev",
    "en-test": lambda q: q["lang"] == "en" and q["split"] == "test",
    "zh-dev": lambda q: q["lang"] == "zh" and q["split"] == "dev",
    "zh-test": lambda q: q["lang"] == "zh" and q["split"] == "test",
    "en-kw-dev": lambda q: q["lang"] == "en" and q["style"] == "keyword" and q["split"] == "dev",
    "en-para-dev": lambda q: (
        q["lang"] == "en" and q["style"] == "paraphrase" and q["split"] == "dev"
    ),
    "zh-kw-dev": lambda q: q["lang"] == "zh" and q["style"] == "keyword" and q["split"] == "dev",
    "zh-para-dev": lambda q: (
        q["lang"] == "zh" and q["style"] == "paraphrase" and q["split"] == "dev"
    ),
    "en-kw-test": lambda q: q["lang"] == "en" and q["style"] == "keyword" and q["split"] == "test",
    "en-para-test": lambda q: (
        q["lang"] == "en" and q["style"] == "paraphrase" and q["split"] == "test"
    ),
    "zh-kw-test": lambda q: q["lang"] == "zh" and q["style"] == "keyword" and q["split"] == "test",
    "zh-para-test": lambda q: (
        q["lang"] == "zh" and q["style"] == "paraphrase" and q["split"] == "test"
    ),
}


@dataclass
class Outcome:
    qid: str
    lang: str
    style: str
    split: str
    fact: str
    fact_in_answer: bool
    fact_in_citations: bool
    fact_retrieved: bool
    answered: bool
    seconds: float
    answer: str
    # Retrieval-order position of the first chunk holding the fact (None: no chunk holds it).
    fact_rank: int | None = None


def retrieval_order(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer's reference chunks in retrieval order (the reference lists cited chunks first;
    retrieval ranks by similarity, then id), as `replay` gives them to the answerer again."""
    chunks = (data.get("reference") or {}).get("chunks") or []
    ordered = sorted(chunks, key=lambda c: (c.get("similarity") or 0.0, c.get("id") or ""))
    return [
        {k: c.get(k) for k in ("id", "content", "document_name", "similarity")}
        for c in reversed(ordered)
    ]


def without_markers(answer: str) -> str:
    return CITATION.sub(" ", answer)


def judge(
    question: dict[str, Any],
    data: dict[str, Any],
    seconds: float,
    no_answers: set[str],
    retrieved: list[dict[str, Any]] | None = None,
) -> Outcome:
    """How one answer fares: the fact in the text, in a cited chunk, in any retrieved chunk.
    `retrieved`: what retrieval gave the answerer when the reply lists no sources."""
    fact = questions.normalised(question["fact"])
    answer = str(data.get("answer") or "")
    chunks = (data.get("reference") or {}).get("chunks") or []
    cited = {int(n) for n in CITATION.findall(answer)}

    def texts(rows: list[dict[str, Any]]) -> list[str]:
        return [questions.normalised(str(c.get("content") or "")) for c in rows]

    contents = texts(chunks)
    given = texts(retrieved or [])
    found = contents + given
    ordered = texts(retrieval_order(data)) or given
    return Outcome(
        qid=question["qid"],
        lang=question["lang"],
        style=question["style"],
        split=question["split"],
        fact=question["fact"],
        fact_in_answer=fact in questions.normalised(without_markers(answer)),
        fact_in_citations=any(fact in contents[n] for n in cited if n < len(contents)),
        fact_retrieved=any(fact in c for c in found),
        answered=answer.strip() not in no_answers | {""},
        seconds=seconds,
        answer=answer[:600],
        fact_rank=next((i for i, c in enumerate(ordered) if fact in c), None),
    )


def fact_place(outcome: Outcome) -> str:
    if outcome.fact_rank is None:
        return "not retrieved"
    return "first chunk" if outcome.fact_rank == 0 else "a later chunk"


def by_fact_place(outcomes: list[Outcome]) -> dict[str, dict[str, dict[str, float]]]:
    """{split: {place of the fact's chunk: {questions, fact_in_answer}}}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for split in ("dev", "test"):
        for place in ("first chunk", "a later chunk", "not retrieved"):
            group = [o for o in outcomes if o.split == split and fact_place(o) == place]
            if group:
                out.setdefault(split, {})[place] = {
                    "questions": len(group),
                    "fact_in_answer": round(sum(o.fact_in_answer for o in group) / len(group), 3),
                }
    return out


def place_table(places: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = ["fact in answer, by where retrieval put the fact's chunk:"]
    for split, row in places.items():
        cells = ", ".join(
            f"{place} {v['fact_in_answer']:.1%} (n={v['questions']})" for place, v in row.items()
        )
        lines.append(f"  {split:<5} {cells}")
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(outcomes: list[Outcome], qs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, wanted in GROUPS.items():
        group = [o for o in outcomes if wanted(qs[o.qid])]
        if not group:
            continue
        n = len(group)
        seconds = [o.seconds for o in group]
        out[name] = {
            "questions": n,
            "fact_in_answer": round(sum(o.fact_in_answer for o in group) / n, 3),
            "fact_in_citations": round(sum(o.fact_in_citations for o in group) / n, 3),
            "fact_retrieved": round(sum(o.fact_retrieved for o in group) / n, 3),
            "answered": round(sum(o.answered for o in group) / n, 3),
            "latency_p50_ms": round(statistics.median(seconds) * 1000, 1),
            "latency_p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
        }
    return out


def create_chat(api: Api, dataset_id: str, name: str) -> dict[str, Any]:
    """A chat on the dataset with the built-in model and otherwise the defaults."""
    found = api.http.get(f"{api.base}/chats", params={"name": name}, timeout=60).json()
    data = found.get("data") if found.get("code") == 0 else None
    listed = data.get("chats", []) if isinstance(data, dict) else data or []
    if listed:  # an earlier run's chat: start afresh
        api.call("DELETE", "/chats", json={"ids": [c["id"] for c in listed]})
    return dict(
        api.call(
            "POST",
            "/chats",
            json={"name": name, "dataset_ids": [dataset_id], "llm": {"model_name": BUILTIN}},
        )
    )


def ask(api: Api, chat_id: str, question: str) -> tuple[dict[str, Any], float]:
    session = api.call("POST", f"/chats/{chat_id}/sessions", json={"name": "bench"})
    started = time.perf_counter()
    data = api.call(
        "POST",
        f"/chats/{chat_id}/completions",
        json={"question": question, "session_id": session["id"], "stream": False},
    )
    return dict(data), time.perf_counter() - started


def retrieve(
    api: Api, chat: dict[str, Any], dataset_id: str, question: str
) -> list[dict[str, Any]]:
    """The chunks the chat's retrieval finds for `question` (its settings, `POST /retrieval`):
    a reply that found nothing to quote lists no sources, yet retrieval may have found some."""
    prompt = chat["prompt"]
    data = api.call(
        "POST",
        "/retrieval",
        json={
            "question": question,
            "dataset_ids": [dataset_id],
            "similarity_threshold": prompt["similarity_threshold"],
            "vector_similarity_weight": 1 - prompt["keywords_similarity_weight"],
            "page_size": prompt["top_n"],
            "top_k": prompt["top_k"],
        },
    )
    return [
        {k: c.get(k) for k in ("id", "content", "document_name", "similarity")}
        for c in data.get("chunks") or []
    ]


def table(results: dict[str, Any]) -> str:
    head = (
        f"{'group':<14}{'n':>5}{'fact/answer':>13}{'fact/cited':>12}{'retrieved':>11}"
        f"{'answered':>10}{'p50 ms':>9}{'p95 ms':>9}"
    )
    lines = [head]
    for name, row in results.items():
        lines.append(
            f"{name:<14}{row['questions']:>5}{row['fact_in_answer']:>13.1%}"
            f"{row['fact_in_citations']:>12.1%}{row['fact_retrieved']:>11.1%}"
            f"{row['answered']:>10.1%}{row['latency_p50_ms']:>9.0f}{row['latency_p95_ms']:>9.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default="minilm",
        help=f"the dataset's embedding model ({', '.join(build.MODELS)} or a full name)",
    )
    parser.add_argument("--split", choices=["dev", "test"], default=None, help="only this split")
    parser.add_argument("--lang", choices=["en", "zh"], default=None, help="only this language")
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="server data dir")
    parser.add_argument("--show", type=int, default=0, help="print this many missed answers")
    parser.add_argument(
        "--save-references",
        type=Path,
        default=None,
        help="write each question's retrieved chunks (JSON lines) for `replay`",
    )
    args = parser.parse_args(argv)
    model = build.MODELS.get(args.model, args.model)
    chosen = [
        q for q in questions.select(questions.load(), lang=args.lang, split=args.split) if q["fact"]
    ]
    by_qid = {q["qid"]: q for q in chosen}
    load_start = os.getloadavg()
    with build.server(args.var_dir) as srv:
        api = Api(srv)
        dataset_id = build.build_dataset(srv.url, srv.api_key, build.dataset_name(model), model)
        chat = create_chat(api, dataset_id, f"answer-quality-{build.dataset_name(model)}")
        # The chat's no-answer text, and the built-in Chinese one for Chinese questions.
        no_answers = {str(chat["prompt"].get("empty_response") or ""), NOT_FOUND_ZH}
        ask(api, chat["id"], "warm up: json")  # loads the segmenter and the embedding model
        outcomes: list[Outcome] = []
        saved: list[dict[str, Any]] = []
        for n, q in enumerate(chosen, 1):
            data, seconds = ask(api, chat["id"], q["question"])
            chunks = retrieval_order(data)
            retrieved = [] if chunks else retrieve(api, chat, dataset_id, q["question"])
            outcomes.append(judge(q, data, seconds, no_answers, retrieved))
            saved.append({"qid": q["qid"], "chunks": chunks or retrieved})
            if n % 25 == 0:
                print(f"   {n}/{len(chosen)} asked", flush=True)
    if args.save_references:
        args.save_references.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in saved), encoding="utf-8"
        )
        print(f"wrote {args.save_references} ({len(saved)} questions' chunks)")
    results = summary(outcomes, by_qid)
    print(f"\nbuilt-in model {BUILTIN}, dataset {build.dataset_name(model)} ({model})")
    print(table(results))
    places = by_fact_place(outcomes)
    print(place_table(places))
    missed = [o for o in outcomes if not o.fact_in_answer and o.split != "test"]
    for o in missed[: args.show]:
        print(f"\n-- {o.qid} fact {o.fact!r} retrieved={o.fact_retrieved}\n   {o.answer[:300]!r}")
    report = {
        "machine": machine() | {"loadavg_at_start": load_start, "loadavg_at_end": os.getloadavg()},
        "setup": {
            "model": BUILTIN,
            "embedding_model": model,
            "dataset": build.dataset_name(model),
            "chat_settings": {
                k: chat["prompt"].get(k)
                for k in ("similarity_threshold", "keywords_similarity_weight", "top_n")
            },
            "questions": len(chosen),
            "endpoint": "POST /api/v1/chats/{id}/completions, stream false, one session each",
        },
        "results": results,
        "by_fact_place": places,
        "questions": [asdict(o) for o in outcomes],
    }
    if args.split is None and args.lang is None:
        suffix = "" if args.model == "minilm" else f"-{args.model}"
        path = RESULTS if not suffix else HERE / f"results-latest{suffix}.json"
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
