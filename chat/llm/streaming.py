"""Shaping a stream of text deltas so that an answer of any length costs linear bytes and memory.

`bounded` stops a stream at a ceiling (RAGSITE_MAX_ANSWER_CHARS for a model's answer) and closes
its source, so a model that never stops is hung up on. `coalesced` merges small deltas once the
text is long: every event a client receives carries a fixed overhead (JSON framing, an SSE line,
a websocket frame), and a model that streams one character at a time would otherwise cost that
overhead per character. Pure asyncio; no Django state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

# A delta goes out once it holds at least 1/COALESCE_RATIO of the text already sent: short
# answers stream piece by piece, long ones in pieces growing with them, so an answer of n
# characters takes O(COALESCE_RATIO * log n) events.
COALESCE_RATIO = 32


async def _close(source: AsyncIterator[str]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()


async def bounded(source: AsyncIterator[str], max_chars: int) -> AsyncIterator[str]:
    """The deltas of `source` up to `max_chars` characters in all; then `source` is closed."""
    left = max_chars
    try:
        async for delta in source:
            if not delta:
                continue
            if len(delta) >= left:
                if left > 0:
                    yield delta[:left]
                return
            left -= len(delta)
            yield delta
    finally:
        await _close(source)


async def coalesced(
    source: AsyncIterator[str], *, ratio: int = COALESCE_RATIO
) -> AsyncIterator[str]:
    """The text of `source` again, small deltas merged once the text is long (see above).

    Nothing is held back at the end: the last pending piece goes out when `source` ends.
    """
    sent = 0
    pending: list[str] = []
    pending_chars = 0
    try:
        async for delta in source:
            if not delta:
                continue
            pending.append(delta)
            pending_chars += len(delta)
            if pending_chars * ratio >= sent:
                piece = "".join(pending)
                pending.clear()
                sent += pending_chars
                pending_chars = 0
                yield piece
    finally:
        await _close(source)
    if pending:
        yield "".join(pending)


def answer_deltas(source: AsyncIterator[str], max_chars: int) -> AsyncIterator[str]:
    """A model's answer as clients should receive it: at most `max_chars`, coalesced."""
    return coalesced(bounded(source, max_chars))
