"""`make run` supervises its children: each one killed in turn comes back by itself."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from ragsite.embedded import valkey_ping
from ragsite.launcher import Backoff
from tests.ragsite.conftest import (
    ROOT,
    Launch,
    LauncherRun,
    assert_nothing_left,
    live_children,
    wait_until,
)

RECOVER_TIMEOUT = 120.0  # a bounded wait for a restart, generous for a loaded 2-core box
PARSE_TIMEOUT = 240.0
# One web process is "web (daphne)", several are "web (daphne 1)", "web (daphne 2)"…
WEB_DEATH = re.compile(r"web \(daphne( \d+)?\) exited unexpectedly")


class Api:
    """A RAGFlow API client speaking to the launcher's Daphne, with no proxy in the way."""

    def __init__(self, web_port: int, key: str) -> None:
        self.base = f"http://127.0.0.1:{web_port}/api/v1"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; raises requests.ConnectionError if nothing listens."""
        return self.session.request(method, self.base + path, timeout=60, **kwargs)

    def data(self, method: str, path: str, **kwargs: Any) -> Any:
        """The envelope's data of a call that must succeed."""
        body = self.call(method, path, **kwargs).json()
        assert body["code"] == 0, body
        return body.get("data")  # some answers (parse) carry no data

    def answers(self) -> bool:
        """True if GET /datasets answers code 0 right now."""
        try:
            response = self.call("GET", "/datasets")
        except requests.ConnectionError:
            return False
        return response.status_code == 200 and response.json().get("code") == 0


def _api_key(run: LauncherRun) -> str:
    """Create a key with the exact command line the banner suggests."""
    line = run.wait_for(lambda line: "manage.py create_api_key admin" in line, "key hint")
    env = dict(os.environ)
    for word in shlex.split(line.split(".venv/bin/python")[0]):
        name, _, value = word.partition("=")
        env[name] = value
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def _child(run: LauncherRun, marker: str) -> psutil.Process:
    """The launcher's current child whose command line contains `marker`."""
    found = live_children(run, marker)
    if not found:
        pytest.fail(f"no live child matching {marker!r}:\n{run.output}")
    return found[0]


def _postmaster(var_dir: Path) -> psutil.Process:
    """The running postmaster of the launcher's data dir (pg_ctl daemonized it)."""
    return psutil.Process(int((var_dir / "postgres" / "postmaster.pid").read_text().split()[0]))


def _gone(proc: psutil.Process) -> bool:
    """True once a process has exited (a zombie counts as exited)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _ready_workers(run: LauncherRun, after: int) -> int:
    """How many times a Celery worker said it was ready since `after`."""
    return sum(1 for line in run.lines[after:] if line.startswith("worker |") and " ready." in line)


def test_backoff_doubles_to_its_ceiling_and_resets_once_a_child_stayed_up() -> None:
    """Quick crashes wait 1, 2, 4… s up to 30 s; a child that ran a while starts over at 1 s."""
    backoff = Backoff(first=1.0, ceiling=30.0, stable_after=60.0)
    assert [backoff.next_delay(uptime=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.next_delay(uptime=61.0) == 1
    assert backoff.next_delay(uptime=3.0) == 2


@pytest.mark.slow
def test_each_child_killed_in_turn_comes_back_by_itself(launch: Launch) -> None:
    """kill -9 the worker, Daphne, Valkey and PostgreSQL: the API answers again each time,
    answers JSON while PostgreSQL is down, and a parse completes at the end."""
    start, var_dir, (web_port, valkey_port) = launch
    run = start()
    run.wait_for(lambda line: "ragsite is running at" in line, "banner")
    run.wait_for(lambda line: line.startswith("worker |") and " ready." in line, "ready worker")
    api = Api(web_port, _api_key(run))
    assert api.answers()

    # The Celery worker, twice in a row: the second quick death waits longer before its restart.
    for delay in ("1 s", "2 s"):
        mark = run.mark()
        _child(run, "celery").kill()
        run.wait_for(
            lambda line, delay=delay: (
                "worker (celery) exited unexpectedly (killed by SIGKILL)" in line
                and f"restarting it in {delay}" in line
            ),
            f"the worker's death, restart in {delay}",
            after=mark,
        )
        wait_until(lambda mark=mark: _ready_workers(run, mark), "worker ready again", run, 300)
    assert api.answers()

    # A Daphne process (one of several on a multi-core box): restarted, the API answers.
    mark = run.mark()
    _child(run, "daphne").kill()
    run.wait_for(lambda line: bool(WEB_DEATH.search(line)), "web death", after=mark)
    wait_until(api.answers, "API answering after Daphne's restart", run, RECOVER_TIMEOUT)

    # Valkey: restarted on the same port.
    mark = run.mark()
    _child(run, "valkey").kill()
    run.wait_for(lambda line: "valkey exited unexpectedly" in line, "Valkey death", after=mark)
    wait_until(
        lambda: valkey_ping(valkey_port), "Valkey answering PING again", run, RECOVER_TIMEOUT
    )

    # PostgreSQL. The launcher is frozen meanwhile so the outage lasts as long as we look at it.
    postmaster = _postmaster(var_dir)
    mark = run.mark()
    os.kill(run.proc.pid, signal.SIGSTOP)
    try:
        postmaster.kill()
        wait_until(lambda: _gone(postmaster), "the postmaster to die", run, RECOVER_TIMEOUT)
        response = api.call("GET", "/datasets")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] != 0, response.text
    finally:
        os.kill(run.proc.pid, signal.SIGCONT)
    line = run.wait_for(
        lambda line: f"PostgreSQL (pid {postmaster.pid}) died" in line, "PG death", after=mark
    )
    assert re.search(r"restarting it in \d+ s", line), line
    wait_until(api.answers, "API answering after PostgreSQL's restart", run, RECOVER_TIMEOUT)
    assert _postmaster(var_dir).pid != postmaster.pid

    # Everything that was killed works together again: upload and parse a document.
    dataset = api.data("POST", "/datasets", json={"name": "after the storm"})
    text = b"The lighthouse keeper logged the fog signal at dawn.\n" * 20
    (document,) = api.data(
        "POST", f"/datasets/{dataset['id']}/documents", files={"file": ("storm.txt", text)}
    )
    api.data("POST", f"/datasets/{dataset['id']}/chunks", json={"document_ids": [document["id"]]})

    def parsed() -> dict[str, Any] | None:
        docs = api.data(
            "GET", f"/datasets/{dataset['id']}/documents", params={"id": document["id"]}
        )
        doc: dict[str, Any] = docs["docs"][0]
        return doc if doc["run"] in {"DONE", "FAIL", "CANCEL"} else None

    done = wait_until(parsed, "the parse to finish", run, PARSE_TIMEOUT)
    assert done["run"] == "DONE", done
    assert done["chunk_count"] > 0

    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit() == 0, run.output
    assert_nothing_left(run, var_dir, (web_port, valkey_port))
