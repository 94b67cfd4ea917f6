"""Parse requests while the broker (Valkey) is down, and recovery of parses that never started.

Everything is real: a Valkey process of the test's own (stopped and started again on the same
port), a Daphne server, and a Celery worker that sends the periodic recovery from its own
timer (`--beat-timer`, as `make run` does), all on the session's test database.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.test import Client
from django.utils import timezone

from knowledge.models import Document
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.conftest import ROOT, _stop, _wait_for_port, free_port, live_env
from tests.helpers import poll

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TEXT = b"The walrus census counted four thousand animals along the northern shore.\n" * 40
# What a client must never see in an answer.
LEAKS = ("Celery", "Retry limit", "Traceback", "Error 111", "kombu", "redis://")


class Valkey:
    """A memory-only Valkey on a fixed port that a test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from ragsite.embedded import valkey_command, valkey_ping

        log = self.workdir / "valkey.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                valkey_command(self.port, self.workdir), stdout=out, stderr=subprocess.STDOUT
            )
        poll(lambda: valkey_ping(self.port), 15, "Valkey to answer PING")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Valkey]:
    valkey = Valkey(tmp_path)
    valkey.start()
    try:
        yield valkey
    finally:
        valkey.stop()


# Recovery every second, and a queued parse counts as lost after two.
FAST_RECOVERY = {"RAGSITE_PARSE_STALE_SECONDS": "2", "RAGSITE_PARSE_RECOVERY_SECONDS": "1"}


@pytest.fixture
def site(django_db_setup: None, broker: Valkey, tmp_path: Path) -> Iterator[str]:
    """Daphne and a Celery worker sending the recovery schedule itself, both on `broker`."""
    env = live_env(tmp_path, broker.url, **FAST_RECOVERY)
    port = free_port()
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("daphne", "worker")}
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "ragsite.asgi:application"],
        cwd=ROOT, env=env, stdout=logs["daphne"], stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ragsite", "worker", "-l", "info",
         "--concurrency=1", "-n", "outage@%h", "--without-gossip", "--without-mingle",
         "--beat-timer"],
        cwd=ROOT, env=env, stdout=logs["worker"], stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for_port(port, daphne, tmp_path / "daphne.log")
        poll(
            lambda: "ready." in (tmp_path / "worker.log").read_text(errors="replace"),
            90,
            "the worker to be ready",
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(worker)
        _stop(daphne)
        for log in logs.values():
            log.close()


def _api(base: str, key: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    # The timeout only guards against a hang; what is asserted is the answer itself.
    response = requests.request(
        method, base + path, headers={"Authorization": f"Bearer {key}"}, timeout=60, **kwargs
    )
    assert response.status_code == 200, response.text
    for leak in LEAKS:
        assert leak not in response.text, response.text
    return response.json()


def _upload(base: str, key: str, dataset_id: str, name: str) -> str:
    body = _api(
        base, key, "post", f"/api/v1/datasets/{dataset_id}/documents", files={"file": (name, TEXT)}
    )
    assert body["code"] == 0, body
    return body["data"][0]["id"]


def test_a_parse_requested_while_the_broker_is_down_waits_and_runs_when_it_returns(
    site: str, broker: Valkey, api_key: str
) -> None:
    created = _api(site, api_key, "post", "/api/v1/datasets", json={"name": "outage"})
    dataset_id = created["data"]["id"]
    kept = _upload(site, api_key, dataset_id, "walrus.txt")
    stopped = _upload(site, api_key, dataset_id, "seals.txt")

    broker.stop()
    answer = _api(
        site,
        api_key,
        "post",
        f"/api/v1/datasets/{dataset_id}/chunks",
        json={"document_ids": [kept, stopped]},
    )
    # Durable queue: the request is accepted and the documents wait, queued, in the database.
    assert answer["code"] == 0, answer
    for doc_id in (kept, stopped):
        document = Document.objects.get(pk=doc_id)
        assert document.run == Document.Run.RUNNING and document.progress == 0
        assert document.heartbeat_at is None
        assert "parsing starts when it is back" in document.progress_msg

    # A queued document can still be cancelled, broker or not.
    cancel = _api(
        site,
        api_key,
        "delete",
        f"/api/v1/datasets/{dataset_id}/chunks",
        json={"document_ids": [stopped]},
    )
    assert cancel["code"] == 0, cancel
    assert Document.objects.get(pk=stopped).run == Document.Run.CANCEL

    broker.start()  # same port, empty: whatever it held is gone
    done = poll(
        lambda: (d := Document.objects.get(pk=kept)).run != Document.Run.RUNNING and d,
        240,
        "the worker to parse the queued document once the broker is back",
    )
    assert done.run == Document.Run.DONE, done.progress_msg
    assert done.chunk_count > 0
    assert Document.objects.get(pk=stopped).run == Document.Run.CANCEL
    assert Document.objects.get(pk=stopped).chunk_count == 0


def test_the_parse_button_says_parsing_waits_for_the_queue(
    site: str, broker: Valkey, tenant: User
) -> None:
    dataset = dataset_create(tenant=tenant, name="ui outage")
    browser = requests.Session()
    client = Client()
    client.force_login(tenant)
    browser.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = browser.get(f"{site}/datasets/{dataset.pk}/", timeout=60)
    assert page.status_code == 200
    csrf = {"X-CSRFToken": browser.cookies["csrftoken"], "Referer": site + "/"}
    upload = browser.post(
        f"{site}/datasets/{dataset.pk}/documents/upload/",
        files={"file": ("walrus.txt", TEXT)},
        headers={**csrf, "HX-Request": "true"},
        timeout=60,
    )
    assert upload.status_code == 200, upload.text
    document = Document.objects.get(dataset=dataset)

    broker.stop()
    response = browser.post(
        f"{site}/datasets/{dataset.pk}/documents/{document.pk}/parse/",
        headers={**csrf, "HX-Request": "true"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    for leak in LEAKS:
        assert leak not in response.text
    assert "alert--warning" in response.text
    assert "parsing will start when it is back" in response.text
    assert "Queued" in response.text
    assert Document.objects.get(pk=document.pk).run == Document.Run.RUNNING


# --- recovery of parses queued but never started -----------------------------------------------


def _recover(broker_url: str, workdir: Path, stale_seconds: int = 2) -> int:
    """Run the periodic recovery once, in a process of its own, as the worker would."""
    code = (
        "import django; django.setup()\n"
        "from knowledge.services.ingest import recover_stale_parses\n"
        "print(recover_stale_parses())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=live_env(workdir, broker_url, RAGSITE_PARSE_STALE_SECONDS=str(stale_seconds)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def _waiting_messages(broker: Valkey) -> list[bytes]:
    return redis.Redis.from_url(broker.url).lrange("celery", 0, -1)


def _queued(tenant: User, name: str, *, queued_for: timedelta) -> Document:
    dataset = dataset_create(tenant=tenant, name=name)
    return Document.objects.create(
        dataset=dataset,
        tenant=tenant,
        name=f"{name}.txt",
        type="doc",
        suffix="txt",
        run=Document.Run.RUNNING,
        progress=0.0,
        parse_generation=1,
        heartbeat_at=None,
        process_begin_at=timezone.now() - queued_for,
    )


def test_recovery_requeues_a_parse_that_never_started(
    broker: Valkey, tenant: User, tmp_path: Path
) -> None:
    # Queued ten minutes ago; its message died with the broker (or was never sent).
    lost = _queued(tenant, "lost", queued_for=timedelta(minutes=10))

    assert _recover(broker.url, tmp_path) == 1
    lost.refresh_from_db()
    assert lost.run == Document.Run.RUNNING and lost.heartbeat_at is None
    assert lost.parse_generation == 2
    assert "Requeued" in lost.progress_msg
    (message,) = _waiting_messages(broker)
    assert lost.pk.encode() in message

    # Its task now waits in the broker (no worker here), so the next round leaves it alone.
    assert _recover(broker.url, tmp_path) == 0
    lost.refresh_from_db()
    assert lost.parse_generation == 2
    assert len(_waiting_messages(broker)) == 1


def test_recovery_leaves_a_parse_that_was_just_queued(
    broker: Valkey, tenant: User, tmp_path: Path
) -> None:
    # Queued a minute ago, with parses taken for lost after an hour.
    fresh = _queued(tenant, "fresh", queued_for=timedelta(minutes=1))
    assert _recover(broker.url, tmp_path, stale_seconds=3600) == 0
    fresh.refresh_from_db()
    assert fresh.parse_generation == 1
    assert _waiting_messages(broker) == []


def test_recovery_with_the_broker_down_keeps_the_parse_queued(
    broker: Valkey, tenant: User, tmp_path: Path
) -> None:
    lost = _queued(tenant, "down", queued_for=timedelta(minutes=10))
    broker.stop()
    assert _recover(broker.url, tmp_path) == 0
    lost.refresh_from_db()
    assert lost.run == Document.Run.RUNNING and lost.parse_generation == 1
