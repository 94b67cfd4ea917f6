"""POST /chats/{id}/completions and the OpenAI-compatible endpoint, above `answer_stream`.

Everything that can fail before the first byte (field types, question length, ownership,
session, variables) is checked in `completion_prepare`, so those errors go out as a normal JSON
envelope, before any retrieval and before a session is created; later failures become events of
the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.llm import Message
from chat.models import ChatSession
from chat.services.answering import AnswerEvent, ChatContext, answer_stream
from chat.services.assistants import fill_variables
from chat.services.sessions import (
    history_of,
    live_chat,
    new_message_id,
    session_create,
    session_record_turn,
)
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError

RESERVED = {"question", "stream", "session_id", "user_id", "name"}


@dataclass
class Prepared:
    ctx: ChatContext
    question: str
    history: list[Message]
    extra: dict[str, Any]
    session_id: str | None = None
    message_id: str = field(default_factory=new_message_id)
    new_session: ChatSession | None = None  # set when the request had no session_id
    opener: str = ""


def string_field(body: dict[str, Any], key: str) -> str | None:
    """An optional string field of a request body (None when absent or null), else 101."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ArgumentError(f"`{key}` should be a string.")
    return value


def checked_question(value: str, *, what: str = "`question`") -> str:
    """`value` when it is at most RAGSITE_MAX_QUESTION_CHARS long, else 101 naming `what`."""
    limit = settings.RAGSITE_MAX_QUESTION_CHARS
    if len(value) > limit:
        raise ArgumentError(f"{what} is too long: at most {limit} characters.")
    return value


def completion_prepare(*, tenant: User, chat_id: str, body: dict[str, Any]) -> Prepared:
    """Resolve the chat and session, or create the session (contract §6.3, §6.6)."""
    question = checked_question(string_field(body, "question") or "")
    session_id, name, user_id = (string_field(body, k) for k in ("session_id", "name", "user_id"))
    chat = live_chat(tenant, chat_id)
    if chat is None:
        raise DataError(f"You don't own the chat {chat_id}")
    ctx = ChatContext.of(chat)
    extra = {k: v for k, v in body.items() if k not in RESERVED}
    if not session_id:
        session = session_create(chat=chat, name=name or "New session", user_id=user_id or "")
        opener = str(chat.prompt_config.get("prologue") or "")
        return Prepared(ctx, "", [], extra, session.pk, new_session=session, opener=opener)
    existing = ChatSession.objects.filter(pk=session_id, chat=chat).first()
    if existing is None:
        raise DataError(f"You don't own the session {session_id}")
    # Checked now so a missing variable is a JSON error, not a broken stream.
    fill_variables(
        str(chat.prompt_config.get("system") or ""),
        list(chat.prompt_config.get("parameters") or []),
        extra,
    )
    history = [Message(m["role"], m["content"]) for m in history_of(existing)]
    return Prepared(ctx, question, history, extra, existing.pk)


def stateless_prepare(*, tenant: User, chat_id: str, messages: list[Any]) -> Prepared:
    """The OpenAI-compatible endpoint: no session; the last user message is the question."""
    chat = live_chat(tenant, chat_id)
    if chat is None:
        raise DataError(f"You don't own the chat {chat_id}")
    turns = [
        Message(str(m.get("role")), str(m.get("content") or ""))
        for m in messages
        if isinstance(m, dict) and m.get("role") in ("user", "assistant")
    ]
    while turns and turns[0].role == "assistant":
        turns.pop(0)
    if not turns or turns[-1].role != "user":
        raise DataError("The last content of this conversation is not from user.")
    question = checked_question(turns[-1].content, what="The last user message")
    return Prepared(ChatContext.of(chat), question, turns[:-1], {})


async def completion_events(
    prepared: Prepared, *, record: bool = True
) -> AsyncIterator[AnswerEvent]:
    """The answer's events; the final one (or the error) is recorded in the session."""
    if prepared.new_session is not None:
        yield AnswerEvent(prepared.opener, {}, final=True)
        return
    last: AnswerEvent | None = None
    async for event in answer_stream(
        prepared.ctx, question=prepared.question, history=prepared.history, extra=prepared.extra
    ):
        last = event
        yield event
    if record and prepared.session_id and last is not None and (last.final or last.error):
        answer = last.answer if last.error is None else f"**ERROR**: {last.error}"
        await sync_to_async(session_record_turn)(
            session_id=prepared.session_id,
            question=prepared.question,
            answer=answer,
            reference=last.reference if last.error is None else {},
            message_id=prepared.message_id,
        )
