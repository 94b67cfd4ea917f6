"""Agent completions (contract §8.4–§8.6) and the OpenAI-compatible agent endpoint (§7.2)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from agents.services.runs import PreparedRun, run_events, run_prepare
from chat.services.completions import checked_question
from knowledge.parsing import count_tokens
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.auth import tenant_for_request
from ragsite.api.envelope import dumps, ok
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.exceptions import public_message
from ragsite.api.parsing import body_flag, json_body
from ragsite.api.streaming import event_stream, sse


def _event(prepared: PreparedRun, name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": name,
        "message_id": prepared.message_id,
        "created_at": int(time.time()),
        "task_id": prepared.agent_id,
        "data": data,
        "session_id": prepared.session.pk,
    }


@async_api_view("POST")
async def agent_completions(request: HttpRequest, user: User, agent_id: str) -> HttpResponseBase:
    body = json_body(request)
    prepared = await sync_to_async(run_prepare)(tenant=user, agent_id=agent_id, body=body)
    if body_flag(body.get("stream"), True):
        return event_stream(_agentsse(prepared))
    content, reference = await _whole_reply(prepared)
    data = _event(
        prepared,
        "message_end",
        {"content": content, "reference": reference, "outputs": {"content": content}},
    )
    return HttpResponse(dumps(ok(data).as_dict()), content_type="application/json")


async def _whole_reply(prepared: PreparedRun) -> tuple[str, dict[str, Any]]:
    """All the run's messages as one text, and every reference merged (contract §8.6)."""
    parts: list[str] = []
    reference: dict[str, Any] = {}
    async for event in run_events(prepared):
        if event.kind == "message":
            parts.append(event.content)
        elif event.kind == "message_end" and event.reference:
            reference = _merged(reference, event.reference)
        elif event.kind == "error":
            parts.append(f"**ERROR**: {event.error}")
    return "".join(parts), reference


def _merged(into: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {
        "chunks": {**(into.get("chunks") or {}), **(new.get("chunks") or {})},
        "doc_aggs": {**(into.get("doc_aggs") or {}), **(new.get("doc_aggs") or {})},
    }


async def _agentsse(prepared: PreparedRun) -> AsyncIterator[bytes]:
    ended = False
    try:
        async for event in run_events(prepared):
            if event.kind == "message" and event.content:
                yield sse(_event(prepared, "message", {"content": event.content}))
            elif event.kind == "message_end":
                ended = True
                yield sse(_event(prepared, "message_end", {"reference": event.reference}))
            elif event.kind == "error":
                yield sse(_event(prepared, "message", {"content": f"**ERROR**: {event.error}"}))
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be events
        yield sse(_event(prepared, "message", {"content": f"**ERROR**: {public_message(exc)}"}))
    if not ended:
        yield sse(_event(prepared, "message_end", {"reference": None}))
    yield b"data:[DONE]\n\n"


# --- OpenAI-compatible --------------------------------------------------------------------------


@async_api_view("POST", authenticate=False)
async def agent_openai_completions(request: HttpRequest, agent_id: str) -> HttpResponseBase:
    body = json_body(request)
    missing = [key for key in ("model", "messages") if key not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")
    user = await sync_to_async(tenant_for_request)(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise DataError("You must provide at least one message.")
    from agents.models import Agent

    if not await Agent.objects.filter(pk=agent_id, tenant=user).aexists():
        raise DataError(f"You don't own the agent {agent_id}")
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    users = [m for m in turns if m.get("role") == "user"]
    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    session_id = body.get("session_id") or body.get("id") or metadata.get("id")
    stream = body_flag(body.get("stream"), False)
    if not users:
        return _openai_reply(
            agent_id, session_id or "", "No valid messages found (user or assistant).", {}, 0
        )
    question = checked_question(str(users[-1].get("content") or ""), what="The last user message")
    run_body = {"question": question, "session_id": session_id}
    prepared = await sync_to_async(run_prepare)(tenant=user, agent_id=agent_id, body=run_body)
    if stream:
        return event_stream(_openaisse(prepared))
    content, reference = await _whole_reply(prepared)
    return _openai_reply(
        agent_id, prepared.session.pk, content, reference, count_tokens(prepared.question)
    )


def _openai_reply(
    agent_id: str, session_id: str, content: str, reference: dict[str, Any], prompt_tokens: int
) -> HttpResponseBase:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reference:
        message["reference"] = reference
    completion = count_tokens(content)
    payload = {
        "id": session_id,
        "object": "chat.completion",
        "created": None,
        "model": agent_id,
        "param": None,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "choices": [{"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}],
    }
    return HttpResponse(dumps(payload), content_type="application/json")


async def _openaisse(prepared: PreparedRun) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {
            "id": prepared.session.pk,
            "object": "chat.completion.chunk",
            "model": prepared.agent_id,
            "choices": [{"delta": delta, "finish_reason": finish, "index": 0}],
        }
        return sse(payload, space=True)

    try:
        async for event in run_events(prepared):
            if event.kind == "message" and event.content:
                yield chunk({"content": event.content})
            elif event.kind == "message_end" and event.reference:
                yield chunk({"content": "", "reference": event.reference})
            elif event.kind == "error":
                yield chunk({"content": f"**ERROR**: {event.error}"}, finish="stop")
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be chunks
        yield chunk({"content": f"**ERROR**: {public_message(exc)}"}, finish="stop")
    yield b"data: [DONE]\n\n"
