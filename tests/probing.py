"""Comparing answers to ids that are someone else's with answers to ids that do not exist."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync


def content_of(response: Any) -> bytes:
    """The whole body, drained from a streaming response too (on the test's connection)."""
    if not getattr(response, "streaming", False):
        return bytes(response.content)

    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def answer(response: Any, probed_id: str) -> tuple[int, str]:
    """Status and body, with the probed id written as <id>."""
    return response.status_code, content_of(response).decode().replace(probed_id, "<id>")
