"""Assertions on the RAGFlow envelope, and polling for what a background process does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ragsite.api.codes import RetCode


def body_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def assert_ok(response: Any) -> Any:
    """The body must be a success envelope; returns its `data` (None when absent)."""
    body = body_of(response)
    assert body["code"] == 0, body
    return body.get("data")


def assert_error(response: Any, code: RetCode, message: str | None = None) -> str:
    """The body must be an error envelope with `code`; returns the message.

    When `message` is given it must appear in the envelope's message.
    """
    body = body_of(response)
    assert body["code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if message is not None:
        assert message in body["message"], body["message"]
    return body["message"]


def poll(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Call `predicate` until it returns something truthy and return that; fail naming `what`
    after `timeout` seconds (a worker or broker doing its part in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
