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


class CumulativeText:
    """Deltas turned into RAGFlow's cumulative events (chat SSE, contract §6.5) at linear cost.

    Each cumulative event repeats the whole text so far, so one event per delta costs bytes
    quadratic in the answer. `add` returns the text to send only once it has grown by at least
    GROWTH of what was last sent (and by MIN_STEP characters): the sizes sent then grow
    geometrically and add up to at most (1 + 1/GROWTH) times the answer.
    """

    GROWTH = 0.25
    MIN_STEP = 32  # about RAGFlow's 16 tokens between events

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._sent = 0

    def add(self, delta: str) -> str | None:
        """Take `delta`; the cumulative text when an event is due, else None."""
        self._parts.append(delta)
        self._length += len(delta)
        if self._length - self._sent < max(self.MIN_STEP, self._sent * self.GROWTH):
            return None
        text = "".join(self._parts)
        self._parts = [text]
        self._sent = self._length
        return text


def event_stream(events: AsyncIterator[bytes]) -> StreamingHttpResponse:
    # charset=utf-8 is essential: without it `requests` decodes the stream as Latin-1.
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
