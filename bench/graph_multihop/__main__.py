"""Do the knowledge graph and RAPTOR help two-hop questions? (`make bench-graph`)

    .venv/bin/python -m bench.graph_multihop [--k 3] [--method light|general] [--scope dataset|file]

In this process, against a fresh embedded PostgreSQL: the four files of
bench/graph_multihop/corpus.py are parsed (one chunk per paragraph, MiniLM), then, with the
local test chat model as the dataset's LLM (tests/llm_server.py taught the graph prompts by
tests/graph_llm.py: entities and relations are read off the text each prompt carries, names
are merged when they agree once case, punctuation, spaces and a plural "s" are set aside), the
knowledge graph is built (extraction, entity resolution, communities) and the RAPTOR
summaries. The 16 two-hop questions are then asked through retrieval_run (hybrid, weight 0.3)
four times on the same chunks: plain, + RAPTOR (summaries available), + knowledge graph
(use_kg: its chunk first) and both. A question's facts are the bridge (the maker, in any of its
spellings) and the answer:

- answer recall@k: share of questions whose answer is in the top k chunks' text;
- complete@k: share of questions with both facts in the top k;
- fact recall@k: share of the two facts found;
- nDCG@k with a chunk's gain = how many of the question's facts it holds, against the ideal
  ranking of every chunk any run can return (leaves, summaries and the question's
  knowledge-graph chunk: one yardstick for the four runs).

Writes bench/graph_multihop/results-latest.json (-general, -file, -no-resolution added to
the name for the options that change them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.raptor_multihop.__main__ import _ndcg, _setup_django, _upload_and_parse

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS = (
    ("hybrid", False, False),
    ("+ RAPTOR", True, False),
    ("+ knowledge graph", False, True),
    ("+ both", True, True),
)


def _found(text: str, spellings: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(s.lower() in low for s in spellings)


def _gain(text: str, facts: tuple[tuple[str, ...], ...]) -> int:
    return sum(1 for spellings in facts if _found(text, spellings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--method", choices=["light", "general"], default="light")
    parser.add_argument("--scope", choices=["dataset", "file"], default="dataset")
    parser.add_argument(
        "--no-resolution", action="store_true", help="build the graph without entity resolution"
    )
    args = parser.parse_args()
    server = _setup_django()
    try:
        run(args.k, args.method, args.scope, resolution=not args.no_resolution)
    finally:
        from django.db import connections

        connections.close_all()
        server.cleanup()


def run(k: int, method: str, scope: str, *, resolution: bool = True) -> None:
    from bench.graph_multihop.corpus import documents, questions
    from knowledge import crosslingual
    from knowledge.enrichment.jobs import job_start
    from knowledge.models import (
        Chunk,
        EnrichmentJob,
        GraphCommunity,
        GraphEntity,
        GraphRelation,
        ModelProvider,
    )
    from knowledge.parser_config import ParserConfig
    from knowledge.services.datasets import dataset_create
    from knowledge.services.graph_search import graph_hit
    from knowledge.services.retrieval import RetrievalRequest, retrieval_run
    from ragsite.accounts.models import User
    from tests.graph_llm import register
    from tests.llm_server import LLMServer

    with LLMServer() as llm:
        register(llm)
        ModelProvider.objects.create(factory="TestLLM", base_url=llm.base_url, chat_models="tiny")
        user = User.objects.create_user("bench", "bench@example.com", "bench-password-1")
        config = ParserConfig.model_validate(
            {
                "chunk_token_num": 40,
                "delimiter": "\n",
                "raptor": {"use_raptor": True, "scope": scope},
                "graphrag": {
                    "use_graphrag": True,
                    "method": method,
                    "resolution": resolution,
                    "community": True,
                },
            }
        )
        dataset = dataset_create(tenant=user, name="graph-multihop", parser_config=config)
        files = documents()
        parse_seconds = _upload_and_parse(user, dataset, files)
        jobs: dict[str, Any] = {}
        for kind in ("graphrag", "raptor"):
            started = time.monotonic()
            job = job_start(dataset=dataset, kind=kind)
            seconds = time.monotonic() - started
            job.refresh_from_db()
            assert job.status == EnrichmentJob.Status.DONE, job.progress_msg
            jobs[kind] = {
                "seconds": round(seconds, 1),
                "llm_calls": job.calls_used,
                "llm_tokens": job.tokens_used,
            }
        dataset.refresh_from_db()
        summaries = Chunk.objects.filter(dataset=dataset, raptor_level__gt=0)
        stored = list(Chunk.objects.filter(dataset=dataset).values_list("content", flat=True))

        asked = questions()
        ideals: list[list[int]] = []
        for question in asked:
            vector = crosslingual.embed_question(dataset.embedding_model, question.text).tolist()
            kg = graph_hit([dataset.pk], question.text, vector)
            texts = [*stored, kg.content] if kg is not None else stored
            ideals.append([_gain(t, question.facts) for t in texts])

        results: dict[str, Any] = {}
        for condition, raptor, use_kg in CONDITIONS:
            summaries.update(available=raptor)
            answer = complete = recall = ndcg = 0.0
            for question, ideal in zip(asked, ideals, strict=True):
                outcome = retrieval_run(
                    user=user,
                    request=RetrievalRequest(
                        question=question.text,
                        dataset_ids=[dataset.pk],
                        similarity_threshold=0.0,
                        vector_similarity_weight=0.3,
                        page_size=k,
                        highlight=False,
                        use_kg=use_kg,
                    ),
                )
                hits = outcome.hits[:k] if outcome else []
                text = "\n".join(h.content for h in hits)
                found = _gain(text, question.facts)
                answer += _found(text, question.facts[1])
                complete += found == 2
                recall += found / 2
                ndcg += _ndcg([_gain(h.content, question.facts) for h in hits], ideal, k)
            n = len(asked)
            results[condition] = {
                f"answer_recall@{k}": round(answer / n, 3),
                f"complete@{k}": round(complete / n, 3),
                f"fact_recall@{k}": round(recall / n, 3),
                f"ndcg@{k}": round(ndcg / n, 3),
            }
        report = {
            "k": k,
            "method": method,
            "raptor_scope": scope,
            "resolution": resolution,
            "documents": len(files),
            "questions": len(asked),
            "leaf_chunks": Chunk.objects.filter(dataset=dataset, raptor_level=0).count(),
            "summary_chunks": summaries.count(),
            "entities": GraphEntity.objects.filter(dataset=dataset).count(),
            "relations": GraphRelation.objects.filter(dataset=dataset).count(),
            "communities": GraphCommunity.objects.filter(dataset=dataset).count(),
            "parse_seconds": round(parse_seconds, 1),
            "jobs": jobs,
            "cpus": os.cpu_count(),
            "load_avg": round(os.getloadavg()[0], 2),
            "results": results,
        }
    print(json.dumps(report, indent=2))
    suffix = "".join(
        part
        for part, default in (
            (f"-{method}", method == "light"),
            (f"-{scope}", scope == "dataset"),
            ("-no-resolution", resolution),
        )
        if not default
    )
    out = ROOT / "bench" / "graph_multihop" / f"results-latest{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    names = list(next(iter(results.values())))
    print(f"\n{'':20}" + "".join(f"{name:>16}" for name in names))
    for condition, figures in results.items():
        print(f"{condition:20}" + "".join(f"{figures[name]:>16}" for name in names))


if __name__ == "__main__":
    main()
