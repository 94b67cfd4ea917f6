"""The ingestion pipeline with real Celery workers on a real Valkey: SIGKILL recovery."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest
from celery import Celery
from django.core.files import File

from knowledge.models import Document
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from tests.conftest import _stop, start_worker
from tests.helpers import poll

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Enough passages that embedding takes several seconds on 2 cores.
LONG_TEXT = "\n\n".join(
    f"Passage {i}: the lighthouse keeper logged fog signal number {i} at dawn, "
    f"and the walrus census counted {4000 + i} animals along the shore." * 3
    for i in range(400)
)


def test_a_worker_killed_mid_parse_does_not_leave_the_document_running(
    tenant, live_workdir: Path, valkey_url: str, settings
) -> None:
    # A broker database of its own, so the session's worker does not take this task.
    broker = valkey_url.rsplit("/", 1)[0] + "/7"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(live_workdir / "media")},
        },
    }
    dataset = dataset_create(tenant=tenant, name="recovery")
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[
            Upload(name="long.txt", file=File(io.BytesIO(LONG_TEXT.encode())), size=len(LONG_TEXT))
        ],
    )
    Document.objects.filter(pk=document.pk).update(
        run=Document.Run.RUNNING, parse_generation=1, progress_msg=""
    )

    victim = start_worker(live_workdir, broker, name="victim", CELERY_BROKER_URL=broker)
    try:
        with Celery(broker=broker, set_as_current=False) as client:
            client.send_task("knowledge.parse_document", args=[document.pk, 1])
        poll(
            lambda: Document.objects.get(pk=document.pk).progress > 0.4,
            120,
            "the victim to start embedding",
        )
        # SIGKILL the whole worker, parent and pool child: nothing gets to clean up.
        for pid in [victim.pid, *_children(victim.pid)]:
            os.kill(pid, signal.SIGKILL)
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()

    stuck = Document.objects.get(pk=document.pk)
    assert stuck.run == Document.Run.RUNNING and 0 < stuck.progress < 1

    time.sleep(2.5)  # let the heartbeat go stale
    rescuer = start_worker(
        live_workdir,
        broker,
        name="rescuer",
        CELERY_BROKER_URL=broker,
        RAGSITE_PARSE_STALE_SECONDS="2",
    )
    try:
        done = poll(
            lambda: (d := Document.objects.get(pk=document.pk)).run != Document.Run.RUNNING and d,
            180,
            "the rescuer to finish the document",
        )
    finally:
        _stop(rescuer)
    assert done.run == Document.Run.DONE, done.progress_msg
    assert "stopped unexpectedly" in done.progress_msg
    assert done.chunks.count() == done.chunk_count > 0


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
