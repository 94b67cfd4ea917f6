"""Server-sent events for the streaming endpoints (chat, agents, OpenAI-compatible)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import StreamingHttpResponse


def sse(payload: Any, *, space: bool = False) -> bytes:
    """One event: `data:` + compact single-line JSON + a blank line.

    RAGFlow writes no space after the colon, except on the agents' OpenAI-compatible stream.
    """
    prefix = b"data: " if space else b"data:"
    return (
        prefix + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
    )


def event_stream(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    # charset=utf-8 is essential: without it `requests` decodes the stream as Latin-1.
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
