"""Reads of agents and their sessions, always scoped to the caller.

Another user's agent answers exactly like a missing one (the `…_or_raise` selectors raise the
same error for both), so ids of others cannot be probed. Each interface chooses its error: the
API the words of its RAGFlow generation, the pages Http404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import F, Q, QuerySet

from agents.models import Agent, AgentSession, Memory, MemoryMessage
from knowledge.selectors import team_mates
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import DataError, ServiceError

ErrorFactory = Callable[[], Exception]
Row = TypeVar("Row", Agent, AgentSession)

# API sort keys → columns (RAGFlow's `orderby`); unknown keys sort by the last change.
ORDER_COLUMNS = {
    "create_time": "created_at",
    "create_date": "created_at",
    "update_time": "updated_at",
    "update_date": "updated_at",
    "title": "title",
    "id": "id",
}


class AgentNotFound(DataError):
    def __init__(self) -> None:
        super().__init__("Agent not found.")


class AgentSessionNotFound(DataError):
    def __init__(self) -> None:
        super().__init__("Session not found!")


def _ordered(query: QuerySet[Row], orderby: str, desc: bool) -> QuerySet[Row]:
    column = ORDER_COLUMNS.get(orderby, "updated_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


# --- agents -----------------------------------------------------------------------------------


def agents_of(tenant: User) -> QuerySet[Agent]:
    return Agent.objects.filter(tenant=tenant)


def agent_get_owned(tenant: User, agent_id: str) -> Agent | None:
    return agents_of(tenant).filter(pk=agent_id).first()


def agent_get_owned_or_raise(
    tenant: User, agent_id: str, *, error: ErrorFactory = AgentNotFound
) -> Agent:
    """The caller's agent; `error()` is raised for a missing and a foreign one alike."""
    agent = agent_get_owned(tenant, agent_id)
    if agent is None:
        raise error()
    return agent


def agent_is_owned(tenant: User, agent_id: str) -> bool:
    return agents_of(tenant).filter(pk=agent_id).exists()


@dataclass(frozen=True)
class AgentFilters:
    """The list filters of both generations; empty values filter nothing."""

    agent_id: str | None = None  # v0.22: exact
    title: str | None = None  # v0.22: exact
    keywords: str = ""  # v0.27: part of the title or the description
    canvas_categories: Sequence[str] = ()
    canvas_type: str | None = None
    tags: Sequence[str] = ()  # v0.27; ragsite stores no tags, so any tag matches nothing


def agent_list(
    *, tenant: User, filters: AgentFilters = AgentFilters(), orderby: str, desc: bool
) -> QuerySet[Agent]:
    """The caller's agents matching `filters`, sorted by `orderby` (RAGFlow's key names)."""
    query = agents_of(tenant)
    if filters.agent_id:
        query = query.filter(pk=filters.agent_id)
    if filters.title:
        query = query.filter(title=filters.title)
    if filters.keywords:
        query = query.filter(
            Q(title__icontains=filters.keywords) | Q(description__icontains=filters.keywords)
        )
    if filters.canvas_categories:
        query = query.filter(canvas_category__in=list(filters.canvas_categories))
    if filters.canvas_type:
        query = query.filter(canvas_type=filters.canvas_type)
    if filters.tags:
        query = query.none()
    return _ordered(query, orderby, desc)


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFilters:
    session_id: str | None = None
    user_id: str | None = None
    keywords: str = ""  # v0.27: part of the name or of a message
    created_from: datetime | None = None  # v0.27 from_date, inclusive
    created_before: datetime | None = None  # v0.27 to_date, exclusive (the day after it)


def agent_session_list(
    *,
    tenant: User,
    agent_id: str,
    filters: SessionFilters = SessionFilters(),
    orderby: str = "update_time",
    desc: bool = True,
) -> QuerySet[AgentSession]:
    """The caller's sessions of an agent (kept after the agent is deleted, as in RAGFlow)."""
    query = AgentSession.objects.filter(agent_key=agent_id, tenant=tenant)
    if filters.session_id:
        query = query.filter(pk=filters.session_id)
    if filters.user_id:
        query = query.filter(user_id=filters.user_id)
    if filters.keywords:
        query = query.filter(
            Q(name__icontains=filters.keywords) | Q(messages__icontains=filters.keywords)
        )
    if filters.created_from is not None:
        query = query.filter(created_at__gte=filters.created_from)
    if filters.created_before is not None:
        query = query.filter(created_at__lt=filters.created_before)
    return _ordered(query, orderby, desc)


def agent_session_get(tenant: User, agent_id: str, session_id: str) -> AgentSession | None:
    """A session of one of the caller's agents (None once the agent is deleted)."""
    return AgentSession.objects.filter(
        pk=session_id, agent_key=agent_id, agent__tenant=tenant, tenant=tenant
    ).first()


def agent_session_get_or_raise(
    tenant: User, agent_id: str, session_id: str, *, error: ErrorFactory = AgentSessionNotFound
) -> AgentSession:
    """A session of the caller's agent; `error()` for an unknown one or one of another agent."""
    session = agent_session_get(tenant, agent_id, session_id)
    if session is None:
        raise error()
    return session


def agent_session_agent_key(tenant: User, session_id: str) -> str | None:
    """The id of the agent a session of the caller's belongs to (None: no such session)."""
    return (
        AgentSession.objects.filter(pk=session_id, tenant=tenant)
        .values_list("agent_key", flat=True)
        .first()
    )


# --- memories ---------------------------------------------------------------------------------


class MemoryNotFound(ServiceError):
    """RAGFlow's 404 (HTTP 200) for a memory that is missing or not visible to the caller."""

    code = RetCode.NOT_FOUND

    def __init__(self, memory_id: str) -> None:
        super().__init__(f"Memory '{memory_id}' not found.")


class MemoryMessageNotFound(ServiceError):
    code = RetCode.NOT_FOUND

    def __init__(self, memory_id: str, message_id: object) -> None:
        super().__init__(f"Message '{message_id}' in memory '{memory_id}' not found.")


def memories_visible_to(user: User) -> QuerySet[Memory]:
    """The caller's memories plus `team` memories of people in one of the caller's teams.

    Team mates may manage a shared memory as its owner does (RAGFlow: "All team members can
    manage the memory").
    """
    return Memory.objects.filter(
        Q(tenant=user) | Q(permissions=Memory.Permission.TEAM, tenant_id__in=team_mates(user))
    )


def memory_get_or_raise(user: User, memory_id: str) -> Memory:
    """A memory the caller may use; a foreign one answers exactly like a missing one."""
    memory = memories_visible_to(user).filter(pk=memory_id).select_related("tenant").first()
    if memory is None:
        raise MemoryNotFound(memory_id)
    return memory


def memories_get_visible(user: User, memory_ids: Sequence[str]) -> list[Memory]:
    """The visible memories among `memory_ids`, in the order given; others are left out."""
    found = {m.pk: m for m in memories_visible_to(user).filter(pk__in=list(memory_ids))}
    return [found[i] for i in dict.fromkeys(memory_ids) if i in found]


@dataclass(frozen=True)
class MemoryFilters:
    keywords: str = ""  # name substring
    memory_types: int = 0  # bit flags; a memory matches when it has any of them
    tenant_ids: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    storage_type: str = ""


def memory_list(user: User, filters: MemoryFilters) -> QuerySet[Memory]:
    """Visible memories matching `filters`, newest first; ids the caller cannot see drop out."""
    query = memories_visible_to(user).select_related("tenant")
    if filters.ids:
        query = query.filter(pk__in=filters.ids)
    if filters.tenant_ids:
        query = query.filter(tenant_id__in=filters.tenant_ids)
    if filters.memory_types:
        query = query.annotate(type_hits=F("memory_type").bitand(filters.memory_types)).filter(
            type_hits__gt=0
        )
    if filters.storage_type:
        query = query.filter(storage_type=filters.storage_type)
    if filters.keywords:
        query = query.filter(name__icontains=filters.keywords)
    return query.order_by("-created_at", "pk")


def memory_message_get_or_raise(memory: Memory, message_id: int) -> MemoryMessage:
    message = MemoryMessage.objects.filter(memory=memory, pk=message_id).first()
    if message is None:
        raise MemoryMessageNotFound(memory.pk, message_id)
    return message


def memory_raw_messages(
    memory: Memory, *, agent_ids: Sequence[str] = (), session_keywords: str = ""
) -> QuerySet[MemoryMessage]:
    """A memory's raw messages (forgotten ones too), newest first; `session_keywords` is a
    substring of the session id."""
    query = MemoryMessage.objects.filter(memory=memory, message_type="raw")
    if agent_ids:
        query = query.filter(agent_id__in=list(agent_ids))
    if session_keywords:
        query = query.filter(session_id__icontains=session_keywords)
    return query.order_by("-valid_at", "-message_id")


def memory_derived_messages(memory: Memory, source_ids: Sequence[int]) -> list[MemoryMessage]:
    return list(
        MemoryMessage.objects.filter(memory=memory, source_id__in=list(source_ids)).order_by(
            "-valid_at", "-message_id"
        )
    )


def memory_recent_messages(
    memories: Sequence[Memory], *, agent_id: str = "", session_id: str = "", limit: int = 10
) -> list[MemoryMessage]:
    """The newest messages of `memories` that are not forgotten."""
    query = MemoryMessage.objects.filter(
        memory__in=list(memories), forget_at__isnull=True
    ).order_by("-valid_at", "-message_id")
    if agent_id:
        query = query.filter(agent_id=agent_id)
    if session_id:
        query = query.filter(session_id=session_id)
    return list(query[:limit])


def agent_titles(tenant_ids: Sequence[str], agent_ids: Sequence[str]) -> dict[str, str]:
    """Titles of the agents named, among those of `tenant_ids` (others are "Unknown")."""
    rows = Agent.objects.filter(pk__in=list(agent_ids), tenant_id__in=list(tenant_ids))
    return dict(rows.values_list("pk", "title"))
