"""A RAPTOR job on real Celery workers and a real Valkey: SIGKILL mid-job, then resume."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery

from knowledge.enrichment.jobs import task_id
from knowledge.models import Chunk, Dataset, Document, EnrichmentJob, ModelProvider
from tests.conftest import _stop, start_worker
from tests.helpers import poll
from tests.knowledge.enrichment.helpers import TEXT, parsed_dataset
from tests.knowledge.test_ingest_worker import _children
from tests.llm_server import LLMServer, is_summary_prompt

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DOCUMENTS = 3


def test_a_worker_killed_mid_job_resumes_from_its_checkpoint(
    tenant, live_workdir: Path, valkey_url: str, settings
) -> None:
    broker = valkey_url.rsplit("/", 1)[0] + "/8"  # not the session worker's queue
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(live_workdir / "media")},
        },
    }
    with LLMServer(delay=0.3) as llm:
        ModelProvider.objects.create(factory="TestLLM", base_url=llm.base_url, chat_models="tiny")
        dataset = parsed_dataset(tenant, lambda **kw: contextlib.nullcontext(), name="resume")
        # Three documents that differ, so no unit's prompts are answered from another's.
        for i in range(1, DOCUMENTS):
            other = parsed_dataset(
                tenant,
                lambda **kw: contextlib.nullcontext(),
                name=f"resume-{i}",
                text=TEXT.replace(".\n", f" (volume {i}).\n"),
            )
            Document.objects.filter(dataset=other).update(dataset=dataset, name=f"v{i}.txt")
            Chunk.objects.filter(dataset=other).update(dataset=dataset)
        documents = list(
            Document.objects.filter(dataset=dataset)
            .order_by("created_at")
            .values_list("pk", flat=True)
        )
        assert len(documents) == DOCUMENTS
        job = EnrichmentJob.objects.create(
            dataset=dataset, kind="raptor", document_ids=documents, chat_model="tiny@TestLLM"
        )
        Dataset.objects.filter(pk=dataset.pk).update(raptor_task_id=job.pk)

        env = {"CELERY_BROKER_URL": broker, "RAGSITE_ENRICHMENT_CONCURRENCY": "1"}
        # Queued before the worker starts, as job_start would have: the worker's start-up
        # recovery finds the task waiting and leaves the job alone.
        with Celery(broker=broker, set_as_current=False) as client:
            client.send_task(
                "knowledge.run_enrichment_job", args=[job.pk, 1], task_id=task_id(job.pk, 1)
            )
        victim = start_worker(live_workdir, broker, name="raptor-victim", **env)
        try:
            poll(
                lambda: (
                    len(
                        (EnrichmentJob.objects.get(pk=job.pk).checkpoint or {}).get(
                            "done_units", []
                        )
                    )
                    >= 1
                ),  # fmt: skip
                180,
                "the victim to finish its first document",
            )
            # ... and to be asking for its second summary of the next one (the first kept).
            seen = len(llm.requests)
            poll(lambda: len(llm.requests) >= seen + 2, 60, "the second document's summaries")
            for pid in [victim.pid, *_children(victim.pid)]:
                os.kill(pid, signal.SIGKILL)
            victim.wait(10)
        finally:
            if victim.poll() is None:
                victim.kill()

        stuck = EnrichmentJob.objects.get(pk=job.pk)
        assert stuck.status == EnrichmentJob.Status.RUNNING and 0 < stuck.progress < 1
        finished_first = set(stuck.checkpoint["done_units"])
        asked_before = len(llm.requests)
        first_summaries = set(
            Chunk.objects.filter(document_id__in=finished_first, raptor_level__gt=0).values_list(
                "pk", flat=True
            )
        )
        assert first_summaries

        time.sleep(2.5)  # let the heartbeat go stale
        rescuer = start_worker(
            live_workdir, broker, name="raptor-rescuer", RAGSITE_ENRICHMENT_STALE_SECONDS="2", **env
        )
        try:
            done = poll(
                lambda: (
                    (j := EnrichmentJob.objects.get(pk=job.pk)).status
                    not in {EnrichmentJob.Status.QUEUED, EnrichmentJob.Status.RUNNING}
                    and j
                ),
                240,
                "the rescuer to finish the job",
            )
        finally:
            _stop(rescuer)

        assert done.status == EnrichmentJob.Status.DONE, done.progress_msg
        assert "stopped unexpectedly; it resumes from its checkpoint" in done.progress_msg
        assert "Resumed from the checkpoint." in done.progress_msg
        assert "answers reused" in done.progress_msg.splitlines()[-1]
        assert done.generation == 2 and done.attempts == 2, done.progress_msg
        assert sorted(done.checkpoint["done_units"]) == sorted(documents)
        # The finished document was not summarised again: its summaries are the same rows.
        again = set(
            Chunk.objects.filter(document_id__in=finished_first, raptor_level__gt=0).values_list(
                "pk", flat=True
            )
        )
        assert again == first_summaries
        for document in documents:
            assert Chunk.objects.filter(document_id=document, raptor_level__gt=0).exists()
        # No prompt was paid for twice, except at most the one in flight at the kill.
        prompts = Counter(p for p in llm.prompts() if is_summary_prompt(p, []))
        assert sum(n - 1 for n in prompts.values()) <= 1, prompts.most_common(2)
        assert len(llm.requests) > asked_before
        assert done.calls_used <= len(prompts) + 1
