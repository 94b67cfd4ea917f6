"""GET /api/v1/system/healthz and /v1/system/healthz check the real parts: the test database,
a Valkey of this test's own (stopped to see the broker fail), a real Celery worker, storage."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ragsite.embedded import valkey_command, valkey_ping
from tests.conftest import _stop, free_port, start_worker

pytestmark = pytest.mark.django_db

PATHS = ("/api/v1/system/healthz", "/v1/system/healthz")
KEYS = {"db", "redis", "doc_engine", "storage", "worker", "status"}


class Valkey:
    """A Valkey on a free port, for one test: it may be stopped without hurting the others."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / f"valkey-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                valkey_command(self.port, workdir), stdout=out, stderr=subprocess.STDOUT
            )
        for _ in range(300):
            if valkey_ping(self.port):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"valkey did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            _stop(self.proc)


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[Valkey]:
    server = Valkey(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(settings: Any, valkey: Valkey) -> Valkey:
    """This test's Valkey as the broker, with tasks sent to it (not run in-process)."""
    settings.CELERY_BROKER_URL = valkey.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return valkey


def health(path: str = PATHS[0]) -> tuple[int, dict[str, Any]]:
    response = Client().get(path)  # no Authorization header: the route is open
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, response.json()


def test_all_parts_ok_then_the_broker_stops(
    broker: Valkey, tmp_path: Path, django_db_setup: None
) -> None:
    worker = start_worker(tmp_path, broker.url, name="healthz-worker")
    try:
        for path in PATHS:
            status, body = health(path)
            assert status == 200, body
            assert body == dict.fromkeys(KEYS - {"status"}, "ok") | {"status": "ok"}
        broker.stop()
        status, body = health()
        assert status == 500
        assert (body["redis"], body["worker"], body["status"]) == ("nok", "nok", "nok")
        assert (body["db"], body["doc_engine"], body["storage"]) == ("ok", "ok", "ok")
        assert set(body["_meta"]) == {"redis", "worker"}
        assert "broker" in body["_meta"]["redis"]["error"]
        assert float(body["_meta"]["redis"]["elapsed"]) >= 0
        # No exception text: no address, no port.
        assert str(broker.port) not in str(body)
    finally:
        _stop(worker)


def test_without_a_worker_the_worker_is_nok(broker: Valkey) -> None:
    status, body = health()
    assert status == 500
    assert (body["redis"], body["worker"], body["status"]) == ("ok", "nok", "nok")
    assert "no Celery worker answered" in body["_meta"]["worker"]["error"]
    # The probe's short-lived app does not become the current app: tasks sent afterwards in
    # this process still go through ragsite's app and its settings.
    from celery import current_app

    from ragsite.celery import app

    assert current_app._get_current_object() is app


def test_tasks_run_in_process_need_no_worker(settings: Any, valkey: Valkey) -> None:
    settings.CELERY_BROKER_URL = valkey.url
    settings.CELERY_TASK_ALWAYS_EAGER = True
    status, body = health(PATHS[1])
    assert status == 200 and body["status"] == "ok" and "_meta" not in body


def test_storage_that_cannot_write_is_nok(settings: Any, broker: Valkey, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where storage wants a folder")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "media")},
        },
    }
    status, body = health()
    assert status == 500 and body["storage"] == "nok" and body["db"] == "ok"
    assert "storage could not write" in body["_meta"]["storage"]["error"]
    assert str(blocker) not in str(body)


def test_other_system_routes() -> None:
    client = Client()
    assert client.get("/api/v1/system/ping").content == b"pong"
    body = client.get("/api/v1/system/version").json()
    assert body["code"] == 0 and isinstance(body["data"], str)
    assert client.post("/api/v1/system/healthz").json()["code"] == 100  # GET only
