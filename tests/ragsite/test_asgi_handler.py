"""Sync views run through one sync middleware chain in one thread (ragsite.asgi_handler)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.test import RequestFactory

from ragsite.asgi_handler import RagsiteASGIHandler


def asgi_get(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 9380), "client": ("127.0.0.1", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip

    async def run() -> tuple[int, dict[str, Any]]:
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
        return start["status"], json.loads(body)

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


def test_a_sync_api_view_costs_one_thread_hop_not_one_per_middleware(
    transactional_db: None, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {api_key}"}

    ours = thread_hops(monkeypatch, RagsiteASGIHandler(), headers)
    django_default = thread_hops(monkeypatch, ASGIHandler(), headers)

    # Django's handler hops to a thread for each classic middleware method and the view; ours
    # once for the whole chain (plus the request signals' sync receivers).
    assert ours <= 4, ours
    assert django_default >= 3 * ours, (ours, django_default)


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
    request = RequestFactory().get(path)
    assert RagsiteASGIHandler.view_is_async(request) is is_async
