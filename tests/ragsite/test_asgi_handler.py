"""Sync views run through one sync middleware chain in one thread (ragsite.asgi_handler)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler

from ragsite.asgi_handler import RagsiteASGIHandler


def asgi_get(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    status, body = asgi_get_raw(app, path, headers)
    return status, json.loads(body)


def asgi_get_raw(app: Any, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 9380), "client": ("127.0.0.1", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip

    async def run() -> tuple[int, bytes]:
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(30)
        body = b""
        while True:
            message = await communicator.receive_output(30)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(30)  # the response's close(): request_finished, DB connection
        return start["status"], body

    return async_to_sync(run)()


def thread_hops(monkeypatch: pytest.MonkeyPatch, app: Any, headers: dict[str, str]) -> int:
    calls = 0
    original = SyncToAsync.__call__

    async def counted(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(SyncToAsync, "__call__", counted)
        status, body = asgi_get(app, "/api/v1/datasets", headers)
    assert (status, body["code"]) == (200, 0), body
    return calls


def test_a_sync_api_view_is_one_job_not_a_thread_hop_per_middleware(
    transactional_db: None, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {api_key}"}

    ours = thread_hops(monkeypatch, RagsiteASGIHandler(), headers)
    django_default = thread_hops(monkeypatch, ASGIHandler(), headers)

    # Django's handler hops to a thread for each classic middleware method, the view and the
    # request signals; ours serves the whole request as one job on its own threads.
    assert ours == 0, ours
    assert django_default >= 6, django_default


def test_sync_views_run_on_kept_threads_and_give_their_connection_back(
    transactional_db: None, api_key: str
) -> None:
    from django.db import connections

    handler = RagsiteASGIHandler()
    seen: list[tuple[str, bool]] = []
    original = handler.respond

    def respond(*args: Any) -> Any:
        response = original(*args)
        # After the job: request_finished has run on this thread (connection given back).
        seen.append((threading.current_thread().name, connections["default"].connection is None))
        return response

    handler.respond = respond  # type: ignore[method-assign]
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {api_key}"}
    for _ in range(5):
        status, body = asgi_get(handler, "/api/v1/datasets", headers)
        assert (status, body["code"]) == (200, 0), body

    names = {name for name, _ in seen}
    assert all(name.startswith("sync-view") for name in names), names
    assert len(names) == 1, names  # one request at a time: the same thread each time
    assert all(given_back for _, given_back in seen), seen


def test_a_download_streams_through_the_sync_path(
    transactional_db: None, api_key: str, tenant: Any
) -> None:
    """A FileResponse (its file read while it is sent, after the view's job) arrives whole."""
    import io

    from django.core.files import File

    from knowledge.services.datasets import dataset_create
    from knowledge.services.documents import Upload, document_upload

    dataset = dataset_create(tenant=tenant, name="downloads")
    payload = b"line one\nline two\n" * 5000
    upload = Upload("notes.txt", File(io.BytesIO(payload)), len(payload))
    (document,) = document_upload(tenant=tenant, dataset=dataset, uploads=[upload])
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {api_key}"}
    status, body = asgi_get_raw(
        RagsiteASGIHandler(), f"/api/v1/datasets/{dataset.pk}/documents/{document.pk}", headers
    )
    assert status == 200 and body == payload


@pytest.mark.parametrize(
    ("path", "is_async"),
    [
        ("/api/v1/datasets", False),
        ("/api/v1/chats/abc/completions", True),  # streamed: keeps Django's async path
        ("/api/v1/chats_openai/abc/chat/completions", True),
        ("/datasets/", False),
        ("/no/such/page", False),
    ],
)
def test_coroutine_views_keep_the_async_path(path: str, is_async: bool) -> None:
    assert RagsiteASGIHandler.view_is_async(path) is is_async


def test_more_requests_than_threads_wait_their_turn(
    transactional_db: None, api_key: str, settings: Any
) -> None:
    """Requests beyond RAGSITE_SYNC_VIEW_THREADS queue for a thread; none is refused."""
    import asyncio

    settings.RAGSITE_SYNC_VIEW_THREADS = 2
    handler = RagsiteASGIHandler()
    names: set[str] = set()
    original = handler.respond

    def respond(*args: Any) -> Any:
        names.add(threading.current_thread().name)
        return original(*args)

    handler.respond = respond  # type: ignore[method-assign]
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {api_key}"}

    async def one() -> tuple[int, bytes]:
        return await asyncio.to_thread(asgi_get_raw, handler, "/api/v1/datasets", headers)

    async def many() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(one() for _ in range(8)))

    results = asyncio.run(many())

    assert [status for status, _ in results] == [200] * 8
    assert all(json.loads(body)["code"] == 0 for _, body in results)
    assert 1 <= len(names) <= 2 and all(n.startswith("sync-view") for n in names), names
