"""Message (v0.17 Answer): the reply the client receives, streamed, then its citations.

A reply stops at RAGSITE_MAX_ANSWER_CHARS (a template can repeat long outputs), and its deltas
are coalesced as it grows (chat.llm.streaming), so a long reply costs linear bytes.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from agents.runtime.memory import save_to_memory
from agents.runtime.state import LazyText, RunEvent, RunState, Step
from agents.runtime.variables import format_value, main_output, render_stream
from chat.llm.streaming import answer_deltas


def choose_template(content: Any) -> str | None:
    """One of the templates, at random as RAGFlow does; None when there is none."""
    if isinstance(content, str):
        return content if content else None
    templates = [t for t in content if isinstance(t, str)] if isinstance(content, list) else []
    return random.choice(templates) if templates else None


def _upstream_output(state: RunState, step: Step) -> Any:
    """v0.17 Answer without `content`: the main output of the component that ran last before it."""
    linked = [c for c in state.executed if c in step.upstream] or state.executed
    return main_output(state, linked[-1]) if linked else ""


async def _pieces(state: RunState, step: Step) -> AsyncIterator[str]:
    template = choose_template(step.params.get("content"))
    if template is not None:
        async for piece in render_stream(state, template):
            yield piece
        return
    value = _upstream_output(state, step)
    if isinstance(value, LazyText):
        async for delta in value.deltas():
            yield delta
    elif text := format_value(value):
        yield text


async def run_message(state: RunState, step: Step) -> AsyncIterator[RunEvent]:
    """Yield "message" deltas as they are produced, then one "message_end" with the reference."""
    stream = step.params.get("stream", True) is not False
    parts: list[str] = []
    async for piece in answer_deltas(_pieces(state, step), settings.RAGSITE_MAX_ANSWER_CHARS):
        parts.append(piece)
        if stream:
            yield RunEvent("message", content=piece)
    text = "".join(parts)
    if not stream and text:
        yield RunEvent("message", content=text)
    state.set_output(step.id, "content", text)
    await save_to_memory(state, step, text)
    yield RunEvent("message_end", reference=state.reference_for(text))
