"""Completions over SSE and the OpenAI-compatible endpoint (contract §6.3–§6.7, §7.1).

Async views: the answer streams from `answer_stream` while Daphne's event loop stays free.
Errors found before streaming go out as a JSON envelope; after the first byte they are events.

`answer_stream` yields deltas. The OpenAI stream sends them as they are; RAGFlow's chat SSE has
a cumulative `answer` per event, so it sends one only when the text has grown enough since the
last (ragsite.api.streaming.CumulativeText): linear bytes either way.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from chat.services.answering import AnswerEvent
from chat.services.completions import (
    Prepared,
    completion_events,
    completion_prepare,
    stateless_prepare,
)
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.envelope import dumps, envelope_response, error, ok
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.exceptions import public_message
from ragsite.api.parsing import body_flag, json_body
from ragsite.api.streaming import CumulativeText, event_stream, sse


def _event_data(
    prepared: Prepared, event: AnswerEvent, answer: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "answer": event.answer if answer is None else answer,
        "reference": event.reference,
        "audio_binary": None,
        "id": prepared.message_id if prepared.new_session is None else None,
        "session_id": prepared.session_id,
    }
    if event.final and prepared.new_session is None:
        data["prompt"] = event.prompt
        data["created_at"] = event.created_at
    return data


def _error_payload(message: str) -> dict[str, Any]:
    return {
        "code": 500,
        "message": message,
        "data": {"answer": f"**ERROR**: {message}", "reference": []},
    }


@async_api_view("POST")
async def chat_completions(request: HttpRequest, user: User, chat_id: str) -> HttpResponseBase:
    body = json_body(request)
    prepared = await sync_to_async(completion_prepare)(tenant=user, chat_id=chat_id, body=body)
    if body_flag(body.get("stream"), True):
        return event_stream(_chatsse(prepared))
    final: AnswerEvent | None = None
    async for event in completion_events(prepared):
        final = event
    if final is None or final.error is not None:
        message = (final.error if final else None) or "No answer was produced."
        return envelope_response(
            error(500, message, {"answer": f"**ERROR**: {message}", "reference": []})
        )
    return JsonResponse(
        ok(_event_data(prepared, final)).as_dict(), json_dumps_params={"ensure_ascii": False}
    )


async def _chatsse(prepared: Prepared) -> AsyncIterator[bytes]:
    text = CumulativeText()
    try:
        async for event in completion_events(prepared):
            if event.error is not None:
                yield sse(_error_payload(event.error))
                break
            if event.final:
                yield sse({"code": 0, "message": "", "data": _event_data(prepared, event)})
            elif (answer := text.add(event.delta)) is not None:
                data = _event_data(prepared, event, answer)
                yield sse({"code": 0, "message": "", "data": data})
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be events
        yield sse(_error_payload(public_message(exc)))
    yield sse({"code": 0, "message": "", "data": True})


# --- OpenAI-compatible ------------------------------------------------------------------------


@async_api_view("POST", authenticate=False)
async def openai_chat_completions(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    body = json_body(request)
    # Checked before authentication, as RAGFlow does.
    missing = [key for key in ("model", "messages") if key not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")
    from ragsite.api.auth import tenant_for_request

    user = await sync_to_async(tenant_for_request)(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise DataError("You have to provide messages.")
    prepared = await sync_to_async(stateless_prepare)(
        tenant=user, chat_id=chat_id, messages=messages
    )
    want_reference = body_flag(body.get("reference"), False)
    if body_flag(body.get("stream"), True):
        return event_stream(_openaisse(prepared, chat_id, want_reference))
    final: AnswerEvent | None = None
    async for event in completion_events(prepared, record=False):
        final = event
    content = (
        final.answer
        if final and final.error is None
        else f"**ERROR**: {final.error if final else ''}"
    )
    prompt_chars = len(prepared.question)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if want_reference and final is not None:
        message["reference"] = final.reference.get("chunks", [])
    payload = {
        "id": f"chatcmpl-{chat_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "usage": {
            "prompt_tokens": prompt_chars,
            "completion_tokens": len(content),
            "total_tokens": prompt_chars + len(content),
            "completion_tokens_details": {
                "reasoning_tokens": sum(
                    len(str(m.get("content") or "")) for m in messages if isinstance(m, dict)
                ),
                "accepted_prediction_tokens": len(content),
                "rejected_prediction_tokens": 0,
            },
        },
        "choices": [{"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}],
    }
    return HttpResponse(dumps(payload), content_type="application/json")


def _chunk(
    chat_id: str, delta: dict[str, Any], finish: str | None = None, usage: Any = None
) -> bytes:
    return sse(
        {
            "id": f"chatcmpl-{chat_id}",
            "choices": [{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": None}],
            "created": int(time.time()),
            "model": "model",
            "object": "chat.completion.chunk",
            "system_fingerprint": "",
            "usage": usage,
        }
    )


async def _openaisse(
    prepared: Prepared, chat_id: str, want_reference: bool
) -> AsyncIterator[bytes]:
    parts: list[str] = []
    sent = 0
    final: AnswerEvent | None = None
    try:
        async for event in completion_events(prepared, record=False):
            if event.error is not None:
                yield _chunk(chat_id, _delta(f"**ERROR**: {event.error}"))
                break
            new = event.delta
            if event.final:
                final = event
                # The final answer may gain citations; stream only what extends the text.
                streamed = "".join(parts)
                new = event.answer[sent:] if event.answer.startswith(streamed) else ""
            if new:
                parts.append(new)
                sent += len(new)
                yield _chunk(chat_id, _delta(new))
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be chunks
        yield _chunk(chat_id, _delta(f"**ERROR**: {public_message(exc)}"))
    usage = {
        "prompt_tokens": len(prepared.question),
        "completion_tokens": sent,
        "total_tokens": len(prepared.question) + sent,
    }
    last: dict[str, Any] = {
        "content": None,
        "role": "assistant",
        "function_call": None,
        "tool_calls": None,
        "reasoning_content": None,
    }
    if want_reference and final is not None:
        last["reference"] = final.reference.get("chunks", [])
        last["final_content"] = final.answer
    yield _chunk(chat_id, last, finish="stop", usage=usage)
    yield b"data:[DONE]\n\n"


def _delta(content: str) -> dict[str, Any]:
    return {
        "content": content,
        "role": "assistant",
        "function_call": None,
        "tool_calls": None,
        "reasoning_content": None,
    }
