"""A knowledge-graph build on real Celery workers: SIGKILLed mid-extraction, it resumes on the
next worker without asking the chat model again for what it already had."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from celery import Celery

from knowledge.enrichment.jobs import task_id
from knowledge.models import Dataset, EnrichmentJob, GraphEntity, GraphRelation
from knowledge.models import Document as DocumentModel
from tests.conftest import _stop, start_worker
from tests.graph_llm import is_extraction_prompt, register
from tests.helpers import poll
from tests.knowledge.graph.corpus import parsed_lines

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PEOPLE = ["Ada", "Boris", "Chen", "Dara", "Emil", "Fatou", "Goran", "Hana", "Ivo", "Jun"]
LINES = [
    f"{first} Lindqvist founded {first} Harbour Labs in {2000 + i}."
    for i, first in enumerate(PEOPLE)
] + [f"{first} Harbour Labs runs a workshop in Tromsø." for first in PEOPLE]
CONFIG = {
    "graphrag": {
        "use_graphrag": True,
        "method": "general",
        "entity_types": ["organization", "person", "geo"],
    }
}


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def test_a_worker_killed_mid_build_resumes_without_asking_twice(
    tenant, live_workdir: Path, valkey_url: str, llm_server, llm_provider, settings,
    django_capture_on_commit_callbacks,
) -> None:  # fmt: skip
    register(llm_server)
    llm_server.delay = 0.3
    broker = valkey_url.rsplit("/", 1)[0] + "/8"  # not the session worker's
    dataset = parsed_lines(
        tenant, django_capture_on_commit_callbacks, name="killed", lines=LINES, **CONFIG
    )
    chunks = dataset.chunk_count
    assert chunks == len(LINES)
    job = EnrichmentJob.objects.create(
        dataset=dataset,
        kind="graphrag",
        document_ids=list(
            DocumentModel.objects.filter(dataset=dataset).values_list("pk", flat=True)
        ),
        chat_model="tiny@TestLLM",
    )
    Dataset.objects.filter(pk=dataset.pk).update(graphrag_task_id=job.pk)
    env = {"CELERY_BROKER_URL": broker, "RAGSITE_ENRICHMENT_CONCURRENCY": "2"}

    def extraction_requests() -> list[str]:
        return [p for p in llm_server.prompts() if is_extraction_prompt(p, [])]

    victim = start_worker(live_workdir, broker, name="graph-victim", **env)
    try:
        with Celery(broker=broker, set_as_current=False) as client:
            client.send_task(
                "knowledge.run_enrichment_job",
                args=[job.pk, job.generation],
                task_id=task_id(job.pk, job.generation),
            )
        poll(lambda: len(extraction_requests()) >= 8, 120, "the victim to read some chunks")
        for pid in [victim.pid, *_children(victim.pid)]:
            os.kill(pid, signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
    stuck = EnrichmentJob.objects.get(pk=job.pk)
    assert stuck.status == EnrichmentJob.Status.RUNNING and stuck.progress < 1
    asked_before = len(extraction_requests())
    assert asked_before < chunks
    assert not GraphEntity.objects.filter(dataset=dataset).exists()

    time.sleep(2.5)  # let the heartbeat go stale
    rescuer = start_worker(
        live_workdir, broker, name="graph-rescuer", RAGSITE_ENRICHMENT_STALE_SECONDS="2", **env
    )
    try:
        done = poll(
            lambda: (
                (j := EnrichmentJob.objects.get(pk=job.pk)).status
                not in (EnrichmentJob.Status.QUEUED, EnrichmentJob.Status.RUNNING)
                and j
            ),
            180,
            "the rescuer to finish the build",
        )
    finally:
        _stop(rescuer)
    assert done.status == EnrichmentJob.Status.DONE, done.progress_msg
    assert "stopped unexpectedly" in done.progress_msg and "answers reused" in done.progress_msg
    prompts = extraction_requests()
    # Every chunk was asked about; none twice, but the (at most two) calls in flight at the kill.
    assert len(set(prompts)) == chunks
    assert len(prompts) - chunks <= 2
    names = set(GraphEntity.objects.filter(dataset=dataset).values_list("name", flat=True))
    assert {"ADA LINDQVIST", "ADA HARBOUR LABS", "TROMSØ"} <= names
    assert GraphRelation.objects.filter(dataset=dataset, target="TROMSØ").count() == len(PEOPLE)
