"""Reads of chat assistants and their sessions, always scoped to the caller.

The `…_or_raise` selectors answer a chat or session that is someone else's exactly like one
that does not exist, so no answer tells which ids are in use.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from chat.models import Chat, ChatSession, SearchApp
from chat.services.errors import WordedError, no_authorization
from knowledge.models import Document
from ragsite.accounts.models import User
from ragsite.api.errors import AuthenticationError, DataError, OperatingError

# Orderings the list endpoints accept (RAGFlow's names → columns); anything else: creation time.
ORDERINGS = {"create_time": "created_at", "update_time": "updated_at", "name": "name", "id": "id"}


def chats_live(tenant: User) -> QuerySet[Chat]:
    """The tenant's chats that are not deleted (RAGFlow soft-deletes them)."""
    return Chat.objects.filter(tenant=tenant, status="1")


def chat_get_owned(tenant: User, chat_id: str) -> Chat | None:
    return chats_live(tenant).select_related("tenant").filter(pk=chat_id).first()


def chat_get_owned_or_raise(
    tenant: User, chat_id: str, *, message: str = "You do not own the chat"
) -> Chat:
    """The tenant's live chat `chat_id`; else `message` (v0.22) or 109 `no authorization`."""
    chat = chat_get_owned(tenant, chat_id)
    if chat is None:
        raise no_authorization(message)
    return chat


def chat_list(
    *,
    tenant: User,
    chat_id: str | None = None,
    name: str | None = None,
    keywords: str | None = None,
    owner_ids: list[str] | None = None,
    orderby: str = "create_time",
    desc: bool = True,
) -> QuerySet[Chat]:
    """The tenant's chats, filtered and ordered as GET /chats does.

    `keywords` (a case-insensitive part of the name) is ignored when `chat_id` or `name` is
    given. Chats are private, so `owner_ids` without the tenant's own id finds nothing.
    """
    query = chats_live(tenant)
    if chat_id:
        query = query.filter(pk=chat_id)
    if name:
        query = query.filter(name=name)
    if keywords and not (chat_id or name):
        query = query.filter(name__icontains=keywords)
    if owner_ids is not None and tenant.pk not in owner_ids:
        query = query.none()
    column = ORDERINGS.get(orderby, "created_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


def session_get(chat: Chat, session_id: str) -> ChatSession | None:
    return ChatSession.objects.filter(pk=session_id, chat=chat).first()


def session_missing(message: str = "Session does not exist") -> WordedError:
    return WordedError(message, v027="Session not found!")


def session_get_or_raise(
    chat: Chat, session_id: str, *, message: str = "Session does not exist"
) -> ChatSession:
    """Session `session_id` of `chat`; else `message` (v0.22) or `Session not found!`."""
    session = session_get(chat, session_id)
    if session is None:
        raise session_missing(message)
    return session


def session_of_chat_or_raise(chat: Chat, session_id: str) -> ChatSession:
    """Session `session_id` of `chat` (v0.27's words): `Session does not belong to this chat!`
    for a session of another of the owner's chats, `Session not found!` for any other."""
    session = ChatSession.objects.filter(pk=session_id, chat__tenant_id=chat.tenant_id).first()
    if session is None:
        raise DataError("Session not found!")
    if session.chat_id != chat.pk:
        raise DataError("Session does not belong to this chat!")
    return session


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
    column = ORDERINGS.get(orderby, "created_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


def document_metadata(document_ids: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
    """Documents' metadata by id (only `fields` when some are named), for references."""
    rows = Document.objects.filter(pk__in=document_ids).values_list("pk", "meta_fields")
    return {
        pk: {k: v for k, v in (meta or {}).items() if not fields or k in fields}
        for pk, meta in rows
    }


# --- search apps -------------------------------------------------------------------------------


def searches_live(tenant: User) -> QuerySet[SearchApp]:
    return SearchApp.objects.filter(tenant=tenant, status="1")


def search_get_owned(tenant: User, search_id: str) -> SearchApp | None:
    return searches_live(tenant).filter(pk=search_id).first()


def search_get_or_raise(tenant: User, search_id: str) -> SearchApp:
    """GET /searches/{id}: someone else's (or no) app is 103 `Has no permission…`."""
    app = search_get_owned(tenant, search_id)
    if app is None:
        raise OperatingError("Has no permission for this operation.", data=False)
    return app


def search_owned_or_raise(tenant: User, search_id: str) -> SearchApp:
    """The owner-only routes (update, delete, completions): 109 `no authorization`."""
    app = search_get_owned(tenant, search_id)
    if app is None:
        raise AuthenticationError("no authorization", data=False)
    return app


def search_list(
    *,
    tenant: User,
    keywords: str = "",
    owner_ids: list[str] | None = None,
    orderby: str = "create_time",
    desc: bool = True,
) -> QuerySet[SearchApp]:
    """The tenant's search apps, as GET /searches filters them; private, like chats."""
    query = searches_live(tenant)
    if keywords:
        query = query.filter(name__icontains=keywords)
    if owner_ids and tenant.pk not in owner_ids:
        query = query.none()
    column = ORDERINGS.get(orderby, "created_at")
    return query.order_by(f"-{column}" if desc else column, "pk")
