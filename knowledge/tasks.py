"""Celery tasks: thin interfaces over knowledge.services.ingest."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="knowledge.parse_document", acks_late=True, reject_on_worker_lost=True)
def parse_document_task(document_id: str, generation: int) -> str:
    """Parse, embed and index one document (one generation of it)."""
    from knowledge.services.ingest import run_parse

    return run_parse(document_id, generation)


@shared_task(name="knowledge.recover_stale_parses")
def recover_stale_parses_task() -> int:
    """Requeue or fail parses no worker is on: the worker died, or the task never reached the
    broker or was lost with it (Celery beat, every RAGSITE_PARSE_RECOVERY_SECONDS)."""
    from knowledge.services.ingest import recover_stale_parses

    return recover_stale_parses()


@shared_task(name="knowledge.run_enrichment_job", acks_late=True, reject_on_worker_lost=True)
def run_enrichment_job_task(job_id: str, generation: int) -> str:
    """Run, or resume, one LLM enrichment job (RAPTOR, knowledge graph)."""
    from knowledge.enrichment.jobs import run_job

    return run_job(job_id, generation)


@shared_task(name="knowledge.recover_stale_enrichment_jobs")
def recover_stale_enrichment_jobs_task() -> int:
    """Queue again enrichment jobs whose worker died or whose task was lost (Celery beat)."""
    from knowledge.enrichment.jobs import recover_stale_jobs

    return recover_stale_jobs()


@worker_ready.connect
def _recover_at_startup(**kwargs: object) -> None:
    """A fresh worker picks up what a dead one, or a restarted broker, left behind."""
    from django.db import connection

    from knowledge.enrichment.jobs import recover_stale_jobs
    from knowledge.services.ingest import recover_stale_parses

    try:
        recover_stale_parses(at_startup=True)
        recover_stale_jobs(at_startup=True)
    finally:
        # This runs in the worker's main process, which runs no task and would otherwise keep
        # the connection idle for its whole life.
        connection.close()
