"""Completions over SSE and the OpenAI-compatible endpoints, in both RAGFlow generations.

Async views: the answer streams from `answer_stream` while Daphne's event loop stays free.
Errors found before streaming go out as a JSON envelope; after the first byte they are events.

`answer_stream` yields deltas. The v0.27 chat stream and the OpenAI streams send them as they
are; RAGFlow v0.22's chat SSE has a cumulative `answer` per event, so it sends one only when
the text has grown enough since the last (ragsite.api.streaming.CumulativeText): linear bytes
either way.

POST /chats/{id}/completions is sent alike by both SDKs (contract G3/G4). It is answered the
v0.27 way (the POST /chat/completions handler with the chat from the path: delta events; without
`session_id` a new session and the answer) when the body has `legacy`, `messages` or `chat_id`
(only v0.27 clients send them) or the X-Ragsite-Generation header says v0.27; otherwise the
v0.22 way (cumulative events; without `session_id` a new session's opener only), whatever the
API key's generation. ragflow-sdk 0.27.3's `Session.ask` still posts the v0.22 body here, and the
seed walkthrough expects its stream to grow like 0.22.1's; an SDK that wants deltas can use
/chat/completions.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from chat.api.schemas import OpenAIIn, TurnIn, openai_in, question_in, turn_in
from chat.api.wording import worded_for
from chat.selectors import document_metadata
from chat.services.answering import AnswerEvent
from chat.services.completions import (
    Prepared,
    completion_events,
    completion_prepare,
    turn_prepare,
)
from knowledge.parsing.tokens import count_tokens
from ragsite.accounts.models import User
from ragsite.api.async_views import async_api_view
from ragsite.api.envelope import dumps, envelope_response, error, ok, ok_with_message
from ragsite.api.errors import ArgumentError
from ragsite.api.exceptions import public_message
from ragsite.api.generation import V0_22, V0_27, is_v027
from ragsite.api.parsing import body_flag, json_body
from ragsite.api.streaming import CumulativeText, event_stream, sse

TERMINATOR = {"code": 0, "message": "", "data": True}
# Body keys only v0.27 clients send on the old completion path (G3/G4).
V027_COMPLETION_KEYS = frozenset({"legacy", "messages", "chat_id"})


def _json(envelope_body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(envelope_body, json_dumps_params={"ensure_ascii": False})


def _error_payload(message: str) -> dict[str, Any]:
    return {
        "code": 500,
        "message": message,
        "data": {"answer": f"**ERROR**: {message}", "reference": []},
    }


def _failure(final: AnswerEvent | None) -> HttpResponse:
    """The envelope of an answer that failed, or never came."""
    message = (final.error if final else None) or "No answer was produced."
    return envelope_response(
        error(500, message, {"answer": f"**ERROR**: {message}", "reference": []})
    )


async def _drain(prepared: Prepared, *, record: bool = True) -> AnswerEvent | None:
    final: AnswerEvent | None = None
    async for event in completion_events(prepared, record=record):
        final = event
    return final


# --- POST /chats/{id}/completions -------------------------------------------------------------


@async_api_view("POST")
async def chat_completions(request: HttpRequest, user: User, chat_id: str) -> HttpResponseBase:
    body = json_body(request)
    # The header, then the body; never the key's generation (see the module docstring).
    signal = V0_27 if V027_COMPLETION_KEYS & body.keys() else V0_22
    if is_v027(request, signal=signal):
        return await _answer_turn(request, user, turn_in(body, chat_id=chat_id))
    question = question_in(body)
    with worded_for(request):
        prepared = await sync_to_async(completion_prepare)(
            tenant=user, chat_id=chat_id, question=question
        )
    if body_flag(body.get("stream"), True):
        return event_stream(_cumulative_sse(prepared))
    final = await _drain(prepared)
    if final is None or final.error is not None:
        return _failure(final)
    return _json(ok(_event_data(prepared, final)).as_dict())


def _event_data(
    prepared: Prepared, event: AnswerEvent, answer: str | None = None
) -> dict[str, Any]:
    """One event of the v0.22 stream (or the v0.27 legacy one): the answer so far."""
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


async def _cumulative_sse(prepared: Prepared) -> AsyncIterator[bytes]:
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
    yield sse(TERMINATOR)


# --- POST /chat/completions (v0.27) -----------------------------------------------------------


@async_api_view("POST")
async def unified_chat_completions(request: HttpRequest, user: User) -> HttpResponseBase:
    return await _answer_turn(request, user, turn_in(json_body(request)))


async def _answer_turn(request: HttpRequest, user: User, parsed: TurnIn) -> HttpResponseBase:
    with worded_for(request, signal=V0_27):
        prepared = await sync_to_async(turn_prepare)(tenant=user, turn=parsed.turn)
    if parsed.stream:
        return event_stream(_cumulative_sse(prepared) if parsed.legacy else _delta_sse(prepared))
    final = await _drain(prepared)
    if final is None or final.error is not None:
        return _failure(final)
    data = _turn_data(
        prepared,
        answer=final.answer,
        reference=final.reference or _NO_REFERENCE,
        prompt=final.prompt,
        created_at=final.created_at,
    )
    data.pop("final")
    return _json(ok_with_message(data).as_dict())


_NO_REFERENCE: dict[str, Any] = {"chunks": [], "doc_aggs": [], "total": 0}


def _turn_data(
    prepared: Prepared,
    *,
    answer: str,
    reference: dict[str, Any],
    prompt: str = "",
    created_at: float | None = None,
    final: bool = False,
) -> dict[str, Any]:
    """One event of the v0.27 stream (§3.5): `answer` holds only the new text."""
    data: dict[str, Any] = {
        "answer": answer,
        "reference": reference,
        "audio_binary": None,
        "prompt": prompt,
        "created_at": created_at if created_at is not None else time.time(),
        "final": final,
        "id": prepared.message_id,
        # No chat: "" (nothing to store); a chat whose turn is not stored: null.
        "session_id": prepared.session_id if prepared.chat_id else "",
    }
    if prepared.chat_id:
        data["chat_id"] = prepared.chat_id
    return data


async def _delta_sse(prepared: Prepared) -> AsyncIterator[bytes]:
    """Deltas, then a final event with `answer: ""` and the whole reference, then `true`."""
    streamed = False
    try:
        async for event in completion_events(prepared):
            if event.error is not None:
                yield sse(_error_payload(event.error))
                break
            if not event.final:
                if event.delta:
                    streamed = True
                    data = _turn_data(prepared, answer=event.delta, reference={"chunks": []})
                    yield sse({"code": 0, "message": "", "data": data})
                continue
            if not streamed and event.answer:
                # An answer that came whole (the empty response): send it as the one delta.
                data = _turn_data(prepared, answer=event.answer, reference={"chunks": []})
                yield sse({"code": 0, "message": "", "data": data})
            data = _turn_data(
                prepared,
                answer="",
                reference=event.reference or _NO_REFERENCE,
                prompt=event.prompt,
                created_at=event.created_at,
                final=True,
            )
            yield sse({"code": 0, "message": "", "data": data})
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be events
        yield sse(_error_payload(public_message(exc)))
    yield sse(TERMINATOR)


# --- OpenAI-compatible ------------------------------------------------------------------------


@async_api_view("POST", authenticate=False)
async def openai_chat_completions(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    """The old path, /chats_openai/{id}/chat/completions (base §7.1; R5)."""
    return await _openai(request, chat_id, v027=False)


@async_api_view("POST", authenticate=False)
async def openai_v027_chat_completions(request: HttpRequest, chat_id: str) -> HttpResponseBase:
    """/openai/{id}/chat/completions (v0.27 §2.8): stream off by default, `model` chosen."""
    return await _openai(request, chat_id, v027=True)


async def _openai(request: HttpRequest, chat_id: str, *, v027: bool) -> HttpResponseBase:
    from ragsite.api.auth import tenant_for_request

    body = json_body(request)
    if v027:  # v0.27 authenticates first
        user = await sync_to_async(tenant_for_request)(request)
    missing = [key for key in ("model", "messages") if key not in body]
    if missing:
        # v0.22 checks this before authentication, as RAGFlow does.
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")
    if not v027:
        user = await sync_to_async(tenant_for_request)(request)
    parsed = openai_in(body, chat_id=chat_id, v027=v027)
    with worded_for(request, signal=V0_27 if v027 else None):
        prepared = await sync_to_async(turn_prepare)(tenant=user, turn=parsed.turn)
    # v0.27 names the model answering ("model" is the placeholder for the chat's own).
    model = prepared.ctx.llm_id if v027 and parsed.model in ("", "model") else parsed.model
    if parsed.stream:
        stream_model = model if v027 else "model"
        return event_stream(_openai_sse(prepared, chat_id, parsed, stream_model, v027=v027))
    final = await _drain(prepared, record=False)
    content = (
        final.answer
        if final and final.error is None
        else f"**ERROR**: {final.error if final else ''}"
    )
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if parsed.reference and final is not None:
        message["reference"] = await _reference_chunks(final, parsed)
    payload = {
        "id": f"chatcmpl-{chat_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "usage": _usage(prepared, parsed, content, v027=v027, details=True),
        "choices": [{"message": message, "logprobs": None, "finish_reason": "stop", "index": 0}],
    }
    return HttpResponse(dumps(payload), content_type="application/json")


def _usage(
    prepared: Prepared, parsed: OpenAIIn, answer: str, *, v027: bool, details: bool
) -> dict[str, Any]:
    """Usage in tokens (v0.27) or, as RAGFlow v0.22 counts it, in characters."""
    size = count_tokens if v027 else len
    prompt, completion = size(prepared.question), size(answer)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if details:
        history = sum(size(m.content) for m in parsed.turn.messages)
        usage["completion_tokens_details"] = {
            "reasoning_tokens": history,
            "accepted_prediction_tokens": completion,
            "rejected_prediction_tokens": 0,
        }
    return usage


async def _reference_chunks(final: AnswerEvent, parsed: OpenAIIn) -> list[dict[str, Any]]:
    chunks = [dict(c) for c in final.reference.get("chunks", [])]
    if parsed.metadata_fields is not None and chunks:
        ids = list({str(c.get("document_id")) for c in chunks})
        metadata = await sync_to_async(document_metadata)(ids, parsed.metadata_fields)
        for chunk in chunks:
            chunk["document_metadata"] = metadata.get(str(chunk.get("document_id")), {})
    return chunks


def _chunk(
    chat_id: str,
    delta: dict[str, Any],
    model: str,
    finish: str | None = None,
    usage: Any = None,
) -> bytes:
    return sse(
        {
            "id": f"chatcmpl-{chat_id}",
            "choices": [{"delta": delta, "finish_reason": finish, "index": 0, "logprobs": None}],
            "created": int(time.time()),
            "model": model,
            "object": "chat.completion.chunk",
            "system_fingerprint": "",
            "usage": usage,
        }
    )


async def _openai_sse(
    prepared: Prepared, chat_id: str, parsed: OpenAIIn, model: str, *, v027: bool
) -> AsyncIterator[bytes]:
    parts: list[str] = []
    sent = 0
    final: AnswerEvent | None = None
    try:
        async for event in completion_events(prepared, record=False):
            if event.error is not None:
                yield _chunk(chat_id, _delta(f"**ERROR**: {event.error}"), model)
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
                yield _chunk(chat_id, _delta(new), model)
    except Exception as exc:  # noqa: BLE001 - after the first byte, errors must be chunks
        yield _chunk(chat_id, _delta(f"**ERROR**: {public_message(exc)}"), model)
    usage = _usage(prepared, parsed, "".join(parts), v027=v027, details=False)
    last: dict[str, Any] = {
        "content": None,
        "role": "assistant",
        "function_call": None,
        "tool_calls": None,
        "reasoning_content": None,
    }
    if parsed.reference and final is not None:
        last["reference"] = await _reference_chunks(final, parsed)
        last["final_content"] = final.answer
    yield _chunk(chat_id, last, model, finish="stop", usage=usage)
    yield b"data:[DONE]\n\n"


def _delta(content: str) -> dict[str, Any]:
    return {
        "content": content,
        "role": "assistant",
        "function_call": None,
        "tool_calls": None,
        "reasoning_content": None,
    }
