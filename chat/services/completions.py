"""Completions above `answer_stream`: one question to a chat, in both RAGFlow generations.

- `Question` → `completion_prepare`: POST /chats/{id}/completions as RAGFlow v0.22 answers it
  (contract §6.3–§6.6; no session: a new one, and only its opener), and the chat page's
  websocket.
- `ChatTurn` → `turn_prepare`: POST /chat/completions (v0.27 §3.5; no chat: the default
  model; a chat without a session: a new session, and the answer), the old path for v0.27
  clients, and the OpenAI-compatible endpoints (stateless turns).

Everything that can fail before the first byte (question length, ownership, session, model,
variables) is checked while preparing, so those errors go out as a normal JSON envelope,
before any retrieval and before a session is created; later failures become events of the
stream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.llm import Message
from chat.llm.registry import chat_model_exists, default_chat_model_id
from chat.models import Chat, ChatSession
from chat.selectors import (
    chat_get_owned_or_raise,
    session_get_or_raise,
    session_of_chat_or_raise,
)
from chat.services.answering import AnswerEvent, ChatContext, answer_stream
from chat.services.assistants import fill_variables
from chat.services.sessions import (
    DEFAULT_NAME,
    history_of,
    new_message_id,
    session_create,
    session_record_turn,
)
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError


@dataclass(frozen=True)
class Question:
    """One question to a chat, the v0.22 way. `options`: prompt variables and answering
    switches (`quote`, `kb_ids`, `doc_ids`, …)."""

    text: str = ""
    session_id: str | None = None
    session_name: str = DEFAULT_NAME
    user_id: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatTurn:
    """One turn the v0.27 way: `messages` ends with the question (a user message).

    `pass_all_history`: the earlier `messages` are the history (else the session's stored
    one). `store_history`: the turn is recorded (a new session is created for it when none is
    named). `llm_id` and `llm_setting` override the chat's model for this turn only.
    """

    messages: Sequence[Message]
    message_id: str
    chat_id: str | None = None
    session_id: str | None = None
    pass_all_history: bool = False
    store_history: bool = True
    llm_id: str | None = None
    llm_setting: dict[str, Any] = field(default_factory=dict)
    user_id: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prepared:
    ctx: ChatContext
    question: str
    history: list[Message]
    extra: dict[str, Any]
    session_id: str | None = None
    message_id: str = field(default_factory=new_message_id)
    new_session: ChatSession | None = None  # v0.22 without session_id: answer its opener only
    opener: str = ""
    chat_id: str | None = None
    record: bool = True  # whether the turn is recorded in the session


def checked_question(value: str, *, what: str = "`question`") -> str:
    """`value` when it is at most RAGSITE_MAX_QUESTION_CHARS long, else 101 naming `what`."""
    limit = settings.RAGSITE_MAX_QUESTION_CHARS
    if len(value) > limit:
        raise ArgumentError(f"{what} is too long: at most {limit} characters.")
    return value


def _check_variables(chat: Chat, options: dict[str, Any]) -> None:
    # Checked now so a missing variable is a JSON error, not a broken stream.
    fill_variables(
        str(chat.prompt_config.get("system") or ""),
        list(chat.prompt_config.get("parameters") or []),
        options,
    )


def completion_prepare(*, tenant: User, chat_id: str, question: Question) -> Prepared:
    """Resolve the chat and session, or create the session (contract §6.3, §6.6)."""
    text = checked_question(question.text)
    chat = chat_get_owned_or_raise(tenant, chat_id, message=f"You don't own the chat {chat_id}")
    ctx = ChatContext.of(chat)
    options = dict(question.options)
    if not question.session_id:
        session = session_create(
            chat=chat, name=question.session_name or DEFAULT_NAME, user_id=question.user_id
        )
        opener = str(chat.prompt_config.get("prologue") or "")
        return Prepared(ctx, "", [], options, session.pk, new_session=session, opener=opener)
    existing = session_get_or_raise(
        chat, question.session_id, message=f"You don't own the session {question.session_id}"
    )
    _check_variables(chat, options)
    history = [Message(m["role"], m["content"]) for m in history_of(existing)]
    return Prepared(ctx, text, history, options, existing.pk, chat_id=chat.pk)


def direct_context(tenant: User) -> ChatContext:
    """A chat-less turn (v0.27 §3.5): the default model, no datasets, no prompt, no citations."""
    return ChatContext(
        chat_id="",
        tenant=tenant,
        dataset_ids=[],
        llm_id=default_chat_model_id(),
        llm_setting={},
        similarity_threshold=0.1,
        vector_similarity_weight=0.3,
        top_n=6,
        top_k=1024,
        rerank_id="",
        prompt_config={
            "system": "",
            "prologue": "",
            "parameters": [],
            "empty_response": "",
            "quote": False,
        },
    )


def turn_prepare(*, tenant: User, turn: ChatTurn) -> Prepared:
    """Resolve (or create) what the turn needs; nothing is answered yet (contract §3.5)."""
    if not turn.store_history and not turn.pass_all_history:
        raise DataError(
            "`pass_all_history_messages` must be true when `store_history_messages` is false."
        )
    if turn.session_id and not turn.chat_id:
        raise DataError("`chat_id` is required when `session_id` is provided.")
    if turn.llm_id and not chat_model_exists(turn.llm_id):
        raise DataError(f"Cannot use specified model {turn.llm_id}.")
    question = checked_question(turn.messages[-1].content, what="The last user message")
    submitted = list(turn.messages[:-1])
    options = dict(turn.options)
    if turn.chat_id is None:
        ctx = direct_context(tenant)
        prepared = Prepared(ctx, question, submitted, options, None, turn.message_id, record=False)
    else:
        chat = chat_get_owned_or_raise(
            tenant, turn.chat_id, message=f"You don't own the chat {turn.chat_id}"
        )
        ctx = ChatContext.of(chat)
        stored: list[Message] = []
        session_id: str | None = None
        if turn.session_id:
            session = session_of_chat_or_raise(chat, turn.session_id)
            stored = [Message(m["role"], m["content"]) for m in history_of(session)]
            session_id = session.pk
        _check_variables(chat, options)
        if session_id is None and turn.store_history:
            session_id = session_create(chat=chat, user_id=turn.user_id).pk
        history = submitted if turn.pass_all_history else stored
        prepared = Prepared(
            ctx,
            question,
            history,
            options,
            session_id,
            turn.message_id,
            chat_id=chat.pk,
            record=turn.store_history,
        )
    prepared.ctx = dataclasses.replace(
        prepared.ctx,
        llm_id=turn.llm_id or prepared.ctx.llm_id,
        llm_setting={**prepared.ctx.llm_setting, **turn.llm_setting},
    )
    return prepared


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
    session_id = prepared.session_id if record and prepared.record else None
    if session_id and last is not None and (last.final or last.error):
        answer = last.answer if last.error is None else f"**ERROR**: {last.error}"
        await sync_to_async(session_record_turn)(
            session_id=session_id,
            question=prepared.question,
            answer=answer,
            reference=last.reference if last.error is None else {},
            message_id=prepared.message_id,
        )
