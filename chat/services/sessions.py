"""Chat sessions: create, rename, delete (contract §6.1–§6.2, §2.6), and recording answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from chat.models import Chat, ChatSession
from chat.selectors import session_missing
from chat.services.assistants import Deletion
from chat.services.errors import WordedError

DEFAULT_NAME = "New session"
# A session named after its first question shows at most this much of it (as agents do).
NAME_FROM_QUESTION_CHARS = 60

REFERENCE_KEYS = (
    "id",
    "content",
    "document_id",
    "document_name",
    "dataset_id",
    "image_id",
    "positions",
)


@dataclass(frozen=True)
class SessionChanges:
    """What a session update sets; None: not sent."""

    name: str | None = None
    user_id: str | None = None


def _name_empty() -> WordedError:
    return WordedError("`name` can not be empty.", v027="`name` can not be empty")


def default_names() -> frozenset[str]:
    """ "New session" in every language of the site: the names nobody chose."""
    names = {DEFAULT_NAME}
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            names.add(translation.gettext(DEFAULT_NAME))
    return frozenset(names)


def name_from_question(question: str) -> str:
    """The first question on one line, cut to NAME_FROM_QUESTION_CHARS with an ellipsis."""
    name = " ".join(question.split())
    if len(name) > NAME_FROM_QUESTION_CHARS:
        name = name[: NAME_FROM_QUESTION_CHARS - 1].rstrip() + "…"
    return name


def session_create(*, chat: Chat, name: str = DEFAULT_NAME, user_id: str = "") -> ChatSession:
    """A new conversation whose first message is the assistant's opener."""
    if not name.strip():
        raise _name_empty()
    opener = str(chat.prompt_config.get("prologue") or "")
    return ChatSession.objects.create(
        chat=chat,
        name=name.strip()[:255],
        user_id=user_id,
        messages=[{"role": "assistant", "content": opener}],
    )


def session_update(*, chat: Chat, session_id: str, changes: SessionChanges) -> ChatSession:
    """Rename (or re-assign) a session. Only the sent fields are written, so a turn recorded
    at the same moment (session_record_turn) is never overwritten by a stale copy."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(pk=session_id, chat=chat).first()
        if session is None:
            raise session_missing()
        changed: list[str] = []
        if changes.name is not None:
            if not changes.name.strip():
                raise _name_empty()
            session.name = changes.name.strip()[:255]
            changed.append("name")
        if changes.user_id is not None:
            session.user_id = changes.user_id
            changed.append("user_id")
        session.save(update_fields=[*changed, "updated_at"])
    return session


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


def session_delete(*, chat: Chat, ids: Sequence[str] | None) -> Deletion:
    """Delete sessions of `chat` (ids None: all of them)."""
    if ids is None:
        deleted, _ = ChatSession.objects.filter(chat=chat).delete()
        return Deletion(deleted)
    result = Deletion()
    seen: set[str] = set()
    for session_id in ids:
        if session_id in seen:
            result.problems.append(("duplicate", session_id))
            continue
        seen.add(session_id)
        count, _ = ChatSession.objects.filter(pk=session_id, chat=chat).delete()
        if count:
            result.deleted += 1
        else:
            result.problems.append(("missing", session_id))
    return result


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
    """Append the question and its answer (same message id) and the answer's reference.

    A session still called by its default name is named after its first question; a name
    somebody chose is kept.
    """
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None:  # deleted while answering
            return
        fields = ["messages", "references", "updated_at"]
        first = not any(m.get("role") == "user" for m in session.messages)
        if first and session.name in default_names() and name_from_question(question):
            session.name = name_from_question(question)
            fields.append("name")
        now = time.time()
        session.messages = [
            *session.messages,
            {"role": "user", "content": question, "id": message_id, "created_at": now},
            {"role": "assistant", "content": answer, "id": message_id, "created_at": now},
        ]
        session.references = [*session.references, reference]
        session.save(update_fields=fields)


def new_message_id() -> str:
    return str(uuid.uuid4())
