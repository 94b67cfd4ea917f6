"""Agent completions: the v0.22 path (contract §8.4–§8.6), v0.27's POST /agents/chat/completions
(v0.27 §3.6) and the OpenAI-compatible agent endpoints (§7.2)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from agents.api.schemas import AgentCompletionIn
from agents.selectors import (
    AgentSessionNotFound,
    ErrorFactory,
    agent_is_owned,
    agent_session_agent_key,
)
from agents.services.runs import PreparedRun, run_events, run_prepare
from chat.services.completions import checked_question
from knowledge.parsing import count_tokens
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.auth import tenant_for_request
from ragsite.api.codes import RetCode
from ragsite.api.envelope import dumps, ok
from ragsite.api.errors import ArgumentError, DataError, OperatingError, ServiceError
from ragsite.api.exceptions import public_message
from ragsite.api.parsing import json_body
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
    """The v0.22 path: `stream` defaults to true; only `message` and `message_end` (R6)."""
    values = AgentCompletionIn.from_body(json_body(request))
    prepared = await sync_to_async(run_prepare)(
        tenant=user,
        agent_id=agent_id,
        question=values.question,
        session_id=values.session_id,
        user_id=values.user_id,
        inputs=values.inputs,
    )
    if values.streams(default=True):
        return event_stream(_agentsse(prepared))
    content, reference = await _whole_reply(prepared)
    data = _event(
        prepared,
        "message_end",
        {"content": content, "reference": reference, "outputs": {"content": content}},
    )
    return HttpResponse(dumps(ok(data).as_dict()), content_type="application/json")


def _no_access() -> OperatingError:
    return OperatingError("Make sure you have permission to access the agent.", data=False)


@async_api_view("POST")
async def agent_chat_completions(request: HttpRequest, user: User) -> HttpResponseBase:
    """POST /agents/chat/completions (v0.27 §3.6; ragflow-sdk 0.27.3 `Session.ask`): the agent
    in the body, `stream` false by default, OpenAI replies with `"openai-compatible": true`."""
    values = AgentCompletionIn.from_body(json_body(request))
    agent_id = values.agent_id
    if not agent_id:
        raise ServiceError("`agent_id` is required.", code=RetCode.ARGUMENT_ERROR, data=False)
    if values.session_id:
        owner = await sync_to_async(agent_session_agent_key)(user, values.session_id)
        if owner is None:
            raise AgentSessionNotFound()
        if owner != agent_id:
            raise OperatingError("Session does not belong to the requested agent.", data=False)
    stream = values.streams(default=False)
    if values.openai_compatible:
        messages = values.messages
        if not isinstance(messages, list) or not messages:
            raise DataError("You must provide at least one message.")
        return await _openai_answer(
            user, agent_id, messages, values.openai_session_id, stream, agent_error=_no_access
        )
    prepared = await sync_to_async(run_prepare)(
        tenant=user,
        agent_id=agent_id,
        question=values.question,
        session_id=values.session_id,
        user_id=values.user_id,
        name=values.name,
        inputs=values.inputs,
        agent_error=_no_access,
    )
    if stream:
        return event_stream(_agentsse(prepared, v027=True))
    content, reference = await _whole_reply(prepared)
    if not content and not reference:
        data: dict[str, Any] = {"session_id": prepared.session.pk}
    else:
        reply: dict[str, Any] = {"content": content, "reference": reference}
        if values.return_trace:
            reply["trace"] = []  # ragsite keeps no per-component traces
        data = _event(prepared, "message_end", reply)
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


async def _agentsse(prepared: PreparedRun, *, v027: bool = False) -> AsyncIterator[bytes]:
    """`message` and `message_end` events, then `[DONE]`. A run that sends nothing ends with a
    `message_end` in v0.22 and with v0.27's bare `{"session_id", "data": {}}` line."""
    sent = ended = False
    try:
        async for event in run_events(prepared):
            if event.kind == "message" and event.content:
                sent = True
                yield sse(_event(prepared, "message", {"content": event.content}))
            elif event.kind == "message_end":
                sent = ended = True
                yield sse(_event(prepared, "message_end", {"reference": event.reference}))
            elif event.kind == "error":
                sent = True
                yield sse(_event(prepared, "message", {"content": f"**ERROR**: {event.error}"}))
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be events
        sent = True
        yield sse(_event(prepared, "message", {"content": f"**ERROR**: {public_message(exc)}"}))
    if v027 and not sent:
        yield sse({"session_id": prepared.session.pk, "data": {}})
    elif not ended:
        yield sse(_event(prepared, "message_end", {"reference": None}))
    yield b"data:[DONE]\n\n"


# --- OpenAI-compatible --------------------------------------------------------------------------


@async_api_view("POST", authenticate=False)
async def agent_openai_completions(request: HttpRequest, agent_id: str) -> HttpResponseBase:
    """The v0.22 OpenAI path (contract §7.2): `model` and `messages` required."""
    body = json_body(request)
    missing = [key for key in ("model", "messages") if key not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")
    user = await sync_to_async(tenant_for_request)(request)
    values = AgentCompletionIn.from_body(body)
    messages = values.messages
    if not isinstance(messages, list) or not messages:
        raise DataError("You must provide at least one message.")
    return await _openai_answer(
        user,
        agent_id,
        messages,
        values.openai_session_id,
        values.streams(default=False),
        agent_error=lambda: DataError(f"You don't own the agent {agent_id}"),
    )


async def _openai_answer(
    user: User,
    agent_id: str,
    messages: list[Any],
    session_id: str | None,
    stream: bool,
    *,
    agent_error: ErrorFactory,
) -> HttpResponseBase:
    """Answer the last user message of `messages` in OpenAI's shape."""
    if not await sync_to_async(agent_is_owned)(user, agent_id):
        raise agent_error()
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    users = [m for m in turns if m.get("role") == "user"]
    if not users:
        return _openai_reply(
            agent_id, session_id or "", "No valid messages found (user or assistant).", {}, 0
        )
    question = checked_question(str(users[-1].get("content") or ""), what="The last user message")
    prepared = await sync_to_async(run_prepare)(
        tenant=user,
        agent_id=agent_id,
        question=question,
        session_id=session_id,
        agent_error=agent_error,
    )
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
