"""`make run`'s launcher, run for real: PostgreSQL, Valkey, Daphne and Celery as processes."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from ragsite.accounts.bootstrap import EXISTS_MESSAGE
from tests.conftest import ROOT
from tests.ragsite.conftest import (
    Launch,
    assert_nothing_left,
    http_status,
    live_children,
    wait_until,
)


@pytest.mark.slow
def test_launcher_starts_serves_and_stops_cleanly(launch: Launch) -> None:
    """Start, serve the login page, stop on SIGTERM; restart on the same data, stop on Ctrl-C."""
    start, var_dir, (web_port, valkey_port) = launch

    first = start()
    first.wait_for(lambda line: "ragsite is running at" in line, "banner")
    first.wait_for(lambda line: "ragflow-sdk 0.22.x" in line, "the SDKs that work")
    assert "ragflow-sdk 0.27.x" in first.output
    assert http_status(f"http://127.0.0.1:{web_port}/accounts/login/") == 200
    first.wait_for(lambda line: line.startswith("worker |") and " ready." in line, "ready worker")
    assert any(re.match(r"web\d?\s*\| ", line) for line in first.lines)
    assert any(line.startswith("pg     | ") for line in first.lines)
    assert 'Created superuser "admin"' in first.output
    assert "launcher-test-password" not in first.output  # only generated passwords are shown
    # Nothing keeps a connection open while idle (it would hold PostgreSQL up, and count
    # against max_connections): soon after the worker is ready, no client is connected.
    idle = _wait_for_no_clients(var_dir)
    assert idle == [], f"connections left open: {idle}\n{first.output}"

    first.proc.send_signal(signal.SIGTERM)
    assert first.wait_exit() == 0, first.output
    assert_nothing_left(first, var_dir, (web_port, valkey_port))

    # Same var dir: the data (and so the admin user) survived the restart.
    second = start()
    second.wait_for(lambda line: "ragsite is running at" in line, "banner on restart")
    assert EXISTS_MESSAGE in second.output
    assert "created database" not in second.output
    second.wait_for(lambda line: line.startswith("worker |") and " ready." in line, "ready worker")

    # Ctrl-C with the worker up (and its connections open) stops everything, PostgreSQL too.
    second.proc.send_signal(signal.SIGINT)
    assert second.wait_exit() == 0, second.output
    assert "did not stop in time" not in second.output
    assert_nothing_left(second, var_dir, (web_port, valkey_port))


@pytest.mark.slow
def test_a_child_that_dies_while_starting_stops_the_launch(launch: Launch) -> None:
    """Before the site first answers, a dead child is a configuration problem: stop and say so."""
    start, var_dir, (web_port, valkey_port) = launch
    run = start()
    run.wait_for(lambda line: "starting Daphne" in line, "Daphne to be started")
    # The launcher says "starting Daphne" before it spawns the process: look until it shows.
    web = wait_until(lambda: live_children(run, "daphne"), "a daphne child", run, 30, 0.1)[0]
    web.kill()
    assert run.wait_exit() == 1, run.output
    assert re.search(r"web \(daphne( \d)?\) exited unexpectedly \(killed by SIGKILL\)", run.output)
    assert_nothing_left(run, var_dir, (web_port, valkey_port))


def _wait_for_no_clients(var_dir: Path, timeout: float = 30.0) -> list[tuple[Any, ...]]:
    """Client backends other than ours, once there are none or when `timeout` runs out."""
    lines = (var_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    port, socket_dir = lines[3].strip(), lines[4].strip()
    deadline = time.monotonic() + timeout
    with psycopg.connect(host=socket_dir, port=port, user="postgres", dbname="ragsite") as conn:
        conn.autocommit = True
        while True:
            clients = conn.execute(
                "SELECT pid, application_name, state, query FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchall()
            if not clients or time.monotonic() > deadline:
                return clients
            time.sleep(0.5)


def test_launcher_refuses_a_busy_port(launch: Launch) -> None:
    """A taken web port is a one-line error before anything is started, not a traceback."""
    start, var_dir, (web_port, _) = launch
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", web_port))
        busy.listen()
        run = start()
        assert run.wait_exit() == 1
    assert f"port {web_port} on 127.0.0.1 is already in use" in run.output
    assert "Traceback" not in run.output
    assert not (var_dir / "postgres").exists()  # it checked before starting anything


def test_the_launcher_runs_without_celery_or_django_loaded() -> None:
    """The supervisor lives as long as `make run`: it loads neither Celery nor Django (52 -> 41 MiB)."""
    code = (
        "import sys, ragsite.launcher; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'celery', 'django', 'kombu'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def _listens_on(proc: psutil.Process, port: int) -> bool:
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr.port == port
        for c in proc.net_connections(kind="tcp")
    )


@pytest.mark.slow
def test_web_processes_share_the_port_and_the_site_survives_one_dying(launch: Launch) -> None:
    """RAGSITE_WEB_PROCESSES=2: two Daphne processes accept on the one port the launcher bound;
    with one killed the other answers every request, and the dead one is started again."""
    start, var_dir, (web_port, valkey_port) = launch
    run = start(RAGSITE_WEB_PROCESSES="2")
    run.wait_for(lambda line: "ragsite is running at" in line, "banner")
    assert "(2 web processes)" in run.output
    web = live_children(run, "daphne")
    assert len(web) == 2, run.output
    assert all(_listens_on(p, web_port) for p in web)
    login = f"http://127.0.0.1:{web_port}/accounts/login/"

    mark = run.mark()
    web[0].kill()
    web[0].wait(10)
    # Each request on a new connection, while the other process is dead or still starting
    # (restarted after 1 s, it takes seconds to accept).
    assert [http_status(login) for _ in range(20)] == [200] * 20
    run.wait_for(
        lambda line: re.search(r"restarted web \(daphne [12]\)", line) is not None,
        "the dead web process restarted",
        after=mark,
    )

    def both_listening() -> bool:
        again = live_children(run, "daphne")
        return len(again) == 2 and all(_listens_on(p, web_port) for p in again)

    wait_until(both_listening, "two listening web processes again", run, 60)
    assert http_status(login) == 200

    run.proc.send_signal(signal.SIGTERM)
    assert run.wait_exit() == 0, run.output
    assert_nothing_left(run, var_dir, (web_port, valkey_port))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGSITE_WEB_PROCESSES", "0"),
        ("RAGSITE_WEB_PROCESSES", "-1"),
        ("RAGSITE_WEB_PROCESSES", "two"),
        ("RAGSITE_SYNC_VIEW_THREADS", "0"),
        ("RAGSITE_SYNC_VIEW_THREADS", "many"),
    ],
)
def test_a_wrong_number_of_web_processes_or_threads_is_one_line_before_anything_starts(
    launch: Launch, name: str, value: str
) -> None:
    start, var_dir, _ = launch
    run = start(**{name: value})
    assert run.wait_exit() == 1
    assert name in run.output
    assert "Traceback" not in run.output
    assert not (var_dir / "postgres").exists()
