"""Celery tasks of the agents app: deriving memories from a raw message."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="agents.extract_memory_message", acks_late=True, reject_on_worker_lost=True)
def extract_memory_message_task(message_id: int) -> str:
    from agents.services.memories import message_extract

    return message_extract(message_id=message_id)
