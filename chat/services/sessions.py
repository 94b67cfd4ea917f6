"""Chat sessions: create, rename, list, delete (contract §6.1–§6.2), and recording answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from chat.models import Chat, ChatSession
from ragsite.accounts.models import User
from ragsite.api.errors import DataError

REFERENCE_KEYS = (
    "id",
    "content",
    "document_id",
    "document_name",
    "dataset_id",
    "image_id",
    "positions",
)


def live_chat(tenant: User, chat_id: str) -> Chat | None:
    return (
        Chat.objects.select_related("tenant").filter(pk=chat_id, tenant=tenant, status="1").first()
    )


def session_create(*, chat: Chat, name: Any = "New session", user_id: Any = "") -> ChatSession:
    """A new conversation whose first message is the assistant's opener."""
    if not isinstance(name, str) or not name.strip():
        raise DataError("`name` can not be empty.")
    opener = str(chat.prompt_config.get("prologue") or "")
    return ChatSession.objects.create(
        chat=chat,
        name=name.strip()[:255],
        user_id=str(user_id or ""),
        messages=[{"role": "assistant", "content": opener}],
    )


def session_update(*, chat: Chat, session_id: str, body: dict[str, Any]) -> ChatSession:
    """Rename (or re-assign) a session. Only the sent fields are written, so a turn recorded
    at the same moment (session_record_turn) is never overwritten by a stale copy."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(pk=session_id, chat=chat).first()
        if session is None:
            raise DataError("Session does not exist")
        if "message" in body or "messages" in body:
            raise DataError("`message` can not be change")
        if "reference" in body:
            raise DataError("`reference` can not be change")
        changed: list[str] = []
        if "name" in body:
            name = body["name"]
            if not isinstance(name, str) or not name.strip():
                raise DataError("`name` can not be empty.")
            session.name = name.strip()[:255]
            changed.append("name")
        if "user_id" in body:
            session.user_id = str(body["user_id"] or "")
            changed.append("user_id")
        session.save(update_fields=[*changed, "updated_at"])
    return session


_ORDER = {"create_time": "created_at", "update_time": "updated_at", "name": "name", "id": "id"}


def session_list(
    *,
    chat: Chat,
    session_id: str | None = None,
    name: str | None = None,
    user_id: str | None = None,
    orderby: str = "create_time",
    desc: bool = True,
) -> QuerySet[ChatSession]:
    query = ChatSession.objects.filter(chat=chat)
    if session_id:
        query = query.filter(pk=session_id)
    if name:
        query = query.filter(name=name)
    if user_id:
        query = query.filter(user_id=user_id)
    column = _ORDER.get(orderby, "created_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


def messages_with_references(session: ChatSession) -> list[dict[str, Any]]:
    """Messages as list endpoints show them: each answer with the chunks it was given."""
    out: list[dict[str, Any]] = []
    answers = 0
    for index, message in enumerate(session.messages):
        item = {k: v for k, v in message.items() if k != "prompt"}
        if message.get("role") == "assistant":
            if index == 0:
                item["reference"] = []  # the opener
            else:
                reference = session.references[answers] if answers < len(session.references) else {}
                chunks = reference.get("chunks", []) if isinstance(reference, dict) else []
                item["reference"] = [{k: c.get(k) for k in REFERENCE_KEYS} for c in chunks]
                answers += 1
        out.append(item)
    return out


def session_delete(*, chat: Chat, ids: Sequence[Any] | None) -> tuple[int, list[str]]:
    """Delete sessions of `chat` (ids None: all). Returns (deleted, errors)."""
    if ids is None:
        deleted, _ = ChatSession.objects.filter(chat=chat).delete()
        return deleted, []
    errors: list[str] = []
    seen: set[str] = set()
    deleted = 0
    for raw in ids:
        session_id = str(raw)
        if session_id in seen:
            errors.append(f"Duplicate session ids: {session_id}")
            continue
        seen.add(session_id)
        count, _ = ChatSession.objects.filter(pk=session_id, chat=chat).delete()
        if count:
            deleted += 1
        else:
            errors.append(f"The chat doesn't own the session {session_id}")
    return deleted, errors


def history_of(session: ChatSession) -> list[dict[str, str]]:
    """Earlier turns for the model: the opener is left out."""
    messages = (
        session.messages[1:]
        if session.messages and session.messages[0].get("role") == "assistant"
        else session.messages
    )
    return [
        {"role": m["role"], "content": m["content"]}
        for m in messages
        if m.get("role") in ("user", "assistant")
    ]


def session_record_turn(
    *, session_id: str, question: str, answer: str, reference: dict[str, Any], message_id: str
) -> None:
    """Append the question and its answer (same message id) and the answer's reference."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None:  # deleted while answering
            return
        now = time.time()
        session.messages = [
            *session.messages,
            {"role": "user", "content": question, "id": message_id, "created_at": now},
            {"role": "assistant", "content": answer, "id": message_id, "created_at": now},
        ]
        session.references = [*session.references, reference]
        session.save(update_fields=["messages", "references", "updated_at"])


def new_message_id() -> str:
    return str(uuid.uuid4())
