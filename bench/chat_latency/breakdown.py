"""Where a completion's time goes: `answer_stream` run in this process, its steps timed.

The HTTP numbers say how long; this says where. The same code the server runs (retrieval with
the bundled MiniLM, the model lookup, the model's stream) is called here against the stack's
database, with timers wrapped around module-level functions; the local model's receive time is
on the same clock. One question at a time, so the steps do not overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import psycopg

from bench.chat_latency.fake_llm import FakeLLM

# (module, attribute, step name): each call's duration is added to the step.
_WRAPPED = (
    ("chat.services.answering", "_retrieve", "retrieval (all of it)"),
    ("knowledge.embeddings", "embed_query", "  query embedding (MiniLM)"),
    ("knowledge.services.retrieval", "retrieve", "  ranking (SQL, fusion)"),
    ("chat.services.answering", "get_chat_model", "model lookup (DB)"),
    ("chat.llm.extractive", "compose_answer", "extractive answer"),
)


@contextlib.contextmanager
def _timers(into: dict[str, float]) -> Iterator[None]:
    import importlib

    import httpx

    patched: list[tuple[Any, str, Any]] = []

    def timed(step: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[step] = into.get(step, 0.0) + (time.perf_counter() - started) * 1000

        return wrapper

    for module_name, attr, step in _WRAPPED:
        module = importlib.import_module(module_name)
        patched.append((module, attr, getattr(module, attr)))
        setattr(module, attr, timed(step, getattr(module, attr)))
    patched.append((httpx.AsyncClient, "__init__", httpx.AsyncClient.__init__))
    httpx.AsyncClient.__init__ = timed("httpx.AsyncClient() (per completion)", httpx.AsyncClient.__init__)  # type: ignore[method-assign]  # fmt: skip
    try:
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


async def _answer(chat_id: str, question: str, llm: FakeLLM) -> dict[str, float]:
    from asgiref.sync import sync_to_async

    from chat.models import Chat
    from chat.services.answering import ChatContext, answer_stream

    ctx = await sync_to_async(lambda: ChatContext.of(Chat.objects.select_related("tenant").get(pk=chat_id)))()  # fmt: skip
    steps: dict[str, float] = {}
    mark = len(llm.received)
    with _timers(steps):
        started = time.perf_counter()
        async for event in answer_stream(ctx, question=question, history=[], extra={}):
            now = (time.perf_counter() - started) * 1000
            if event.error:
                raise RuntimeError(event.error)
            if event.answer and "→ first answer delta" not in steps:
                steps["→ first answer delta"] = now
            if event.final:
                steps["→ final event"] = now
    if len(llm.received) > mark:
        steps["→ local model got the request"] = (llm.received[mark] - started) * 1000
    return steps


def run(
    chats: dict[str, str], questions: Sequence[str], llm: FakeLLM, database_url: str
) -> dict[str, Any]:
    """{model: {step: {p50, p95}}} over `questions` (the first one is a warm-up, not counted),
    and the cost of opening a PostgreSQL connection (the app sets no CONN_MAX_AGE by default,
    so each request opens one)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per model request
    out: dict[str, Any] = {}
    connect: list[float] = []
    for _ in questions:
        started = time.perf_counter()
        psycopg.connect(database_url).close()
        connect.append((time.perf_counter() - started) * 1000)
    out["new PostgreSQL connection"] = {
        "p50": round(float(np.percentile(connect, 50)), 1),
        "p95": round(float(np.percentile(connect, 95)), 1),
    }
    for model, chat_id in chats.items():
        rows = [asyncio.run(_answer(chat_id, q, llm)) for q in questions]
        steps = sorted({s for row in rows[1:] for s in row}, key=_order)
        out[model] = {
            step: {
                "p50": round(float(np.percentile([r.get(step, 0.0) for r in rows[1:]], 50)), 1),
                "p95": round(float(np.percentile([r.get(step, 0.0) for r in rows[1:]], 95)), 1),
            }
            for step in steps
        }
    return out


def _order(step: str) -> int:
    names = [s for _, _, s in _WRAPPED] + ["httpx.AsyncClient() (per completion)",
             "→ local model got the request", "→ first answer delta", "→ final event"]  # fmt: skip
    return names.index(step) if step in names else len(names)


def table(result: dict[str, Any]) -> str:
    models = [m for m in result if m != "new PostgreSQL connection"]
    steps = sorted({s for m in models for s in result[m]}, key=_order)
    head = ["in-process step, ms p50 / p95", *models]
    body = [
        [step, *(_cell(result[m].get(step)) for m in models)] for step in steps
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in [head, ["-" * w for w in widths], *body]
    ]  # fmt: skip
    return "\n".join(lines)


def _cell(stat: dict[str, float] | None) -> str:
    return "–" if stat is None else f"{stat['p50']:.1f} / {stat['p95']:.1f}"
