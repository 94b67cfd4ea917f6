"""The web process's PostgreSQL pool (RAGSITE_DB_POOL): connections are reused across request
threads and survive a PostgreSQL restart, against a real embedded server of the test's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragsite.embedded import Postgres, restart_postgres, start_postgres

ROOT = Path(__file__).resolve().parents[2]

# Each "request" runs in a new thread, as Django's ASGI handler runs sync views, and ends the
# way a request does (close_old_connections: the connection goes back to the pool).
_CLIENT = textwrap.dedent(
    """
    import json, sys, threading
    import django
    django.setup()
    from django.db import close_old_connections, connection

    def request():
        out = {}
        def run():
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    out["pid"] = cursor.fetchone()[0]
            except Exception as exc:
                out["error"] = repr(exc)
            finally:
                close_old_connections()
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        return out

    for line in sys.stdin:
        print(json.dumps([request() for _ in range(int(line))]), flush=True)
    """
)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    # mkdtemp, not tmp_path: the postgres system user must traverse the directory.
    tmp = Path(tempfile.mkdtemp(prefix="ragsite-pool-"))
    server = start_postgres(tmp / "pg")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
def test_pooled_connections_are_reused_and_survive_a_restart(postgres: Postgres) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ragsite.settings",
        "DATABASE_URL": postgres.url("postgres"),
        "RAGSITE_DB_POOL": "1",
        "RAGSITE_DB_POOL_MIN": "1",
    }
    client = subprocess.Popen(
        [sys.executable, "-c", _CLIENT],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None

    def requests(count: int) -> list[dict[str, object]]:
        client.stdin.write(f"{count}\n")  # type: ignore[union-attr]
        client.stdin.flush()  # type: ignore[union-attr]
        return list(json.loads(client.stdout.readline()))  # type: ignore[union-attr]

    try:
        before = requests(5)
        assert all("pid" in r for r in before), before
        # Five request threads, one after another, were served by the pool's few connections.
        assert len({r["pid"] for r in before}) <= 2

        postgres.stop()
        restart_postgres(postgres)

        after = requests(3)
        assert all("pid" in r for r in after), after  # no request saw the dead connection
        assert {r["pid"] for r in after}.isdisjoint({r["pid"] for r in before})
        assert len({r["pid"] for r in after}) <= 2
    finally:
        client.kill()
        client.wait(10)


def test_the_pool_is_off_unless_asked_for(settings: object) -> None:
    # pytest and the Celery worker (prefork) use plain connections.
    from django.conf import settings as django_settings

    assert "pool" not in django_settings.DATABASES["default"].get("OPTIONS", {})
