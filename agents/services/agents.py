"""Agents and their sessions (contract §8.1–§8.3), and recording a run's turn."""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import AGENT_CANVAS, Agent, AgentSession
from agents.runtime import DslError, prologue_of, validate_dsl
from agents.runtime.dsl import component_type
from agents.runtime.refs import TEMPLATE_REF, parse_ref
from agents.selectors import AgentSessionNotFound, agent_session_list
from knowledge.selectors import dataset_get_visible
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import ArgumentError, DataError, ServiceError


def _checked_dsl(tenant: User, dsl: dict[str, Any]) -> dict[str, Any]:
    """The DSL with its run keys filled in, or ArgumentError (101) saying what is wrong."""
    try:
        dsl = validate_dsl(dsl)
    except DslError as exc:
        raise ArgumentError(f"Invalid DSL: {exc.message}") from exc
    _check_datasets(tenant, dsl)
    return dsl


def _check_datasets(tenant: User, dsl: dict[str, Any]) -> None:
    """Refuse a DSL naming a dataset its owner cannot search, as the run would (code 102).

    Ids chosen when the agent runs (a Begin input, another component's output) are checked then.
    """
    for dataset_id in dataset_ids_named(dsl):
        if dataset_get_visible(tenant, dataset_id) is None:
            raise DataError(f"You don't own the dataset {dataset_id}.")


def dataset_ids_named(dsl: dict[str, Any]) -> list[str]:
    """The dataset ids a validated DSL's Retrieval components name outright.

    `kb_ids` is read as agents.runtime.retrieval reads it: items that are lists of ids or
    comma-separated strings; `env.x` references take their value from the DSL's globals; what
    other references stand for is known only when the agent runs.
    """
    components = dsl["components"]
    env = {k: v for k, v in (dsl.get("globals") or {}).items() if k.startswith("env.")}
    ids: list[str] = []

    def add(value: Any) -> None:
        parts = value if isinstance(value, list) else str(value or "").split(",")
        for part in parts:
            if (text := str(part).strip()) and text not in ids:
                ids.append(text)

    def is_reference(name: str) -> bool:  # inside braces
        return parse_ref(name) is not None or name in components  # v0.17 `{Retrieval:Abc}`

    for component in components.values():
        if component_type(component) != "Retrieval":
            continue
        kb_ids = component["obj"]["params"].get("kb_ids") or []
        for item in kb_ids if isinstance(kb_ids, list) else [kb_ids]:
            if not isinstance(item, str):
                add(item)
            elif parse_ref(item.strip()) is not None:
                add(env.get(item.strip()))
            else:
                for match in TEMPLATE_REF.finditer(item):
                    add(env.get(match.group(1)))
                add(TEMPLATE_REF.sub(lambda m: "," if is_reference(m.group(1)) else m[0], item))
    return ids


class AgentTitleTaken(DataError):
    """The owner already has an agent with this title (compared case-insensitively)."""

    def __init__(self, title: str) -> None:
        super().__init__(f"Agent with title {title} already exists.")
        self.title = title


class AgentOwnerOnly(ServiceError):
    """Only the owner changes or deletes an agent; a missing agent answers the same."""

    def __init__(self) -> None:
        super().__init__(
            "Only owner of canvas authorized for this operation.",
            code=RetCode.OPERATING_ERROR,
            data=False,
        )


def _checked_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise ServiceError("No title in request.", code=RetCode.ARGUMENT_ERROR, data=False)
    return title


def _title_taken(tenant: User, title: str, *, exclude_id: str | None = None) -> bool:
    query = Agent.objects.filter(tenant=tenant, title__iexact=title)
    if exclude_id is not None:
        query = query.exclude(pk=exclude_id)
    return query.exists()


def agent_create(
    *,
    tenant: User,
    title: str,
    dsl: dict[str, Any],
    description: str | None = None,
    canvas_type: str | None = None,
    canvas_category: str = AGENT_CANVAS,
    avatar: str | None = None,
    release: bool = False,
) -> Agent:
    """A new agent; its DSL must run and may name only datasets its owner can search."""
    title = _checked_title(title)
    if _title_taken(tenant, title):
        raise AgentTitleTaken(title)
    checked = _checked_dsl(tenant, dsl)
    try:
        with transaction.atomic():
            return Agent.objects.create(
                tenant=tenant,
                title=title,
                dsl=checked,
                description=description,
                canvas_type=canvas_type,
                canvas_category=canvas_category,
                avatar=avatar,
                published_at=timezone.now() if release else None,
            )
    except IntegrityError as exc:  # a concurrent create took the title
        raise AgentTitleTaken(title) from exc


@dataclass(frozen=True)
class AgentChanges:
    """What `agent_update` changes: fields left None stay as they are."""

    title: str | None = None
    description: str | None = None
    dsl: dict[str, Any] | None = None
    canvas_type: str | None = None
    canvas_category: str | None = None
    avatar: str | None = None
    release: bool = False  # the saved DSL is also the published one


def agent_update(*, tenant: User, agent_id: str, changes: AgentChanges) -> Agent:
    """Apply `changes`. The row is locked and only the changed columns are written, so other
    changes made at the same moment survive and a deleted agent stays gone."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(pk=agent_id, tenant=tenant).first()
        if agent is None:
            raise AgentOwnerOnly()
        changed: list[str] = []
        if changes.title is not None:
            title = _checked_title(changes.title)
            if _title_taken(tenant, title, exclude_id=agent.pk):
                raise AgentTitleTaken(title)
            agent.title = title
            changed.append("title")
        if changes.dsl is not None:
            agent.dsl = _checked_dsl(tenant, changes.dsl)
            changed.append("dsl")
            if changes.release:
                agent.published_at = timezone.now()
                changed.append("published_at")
        for name in ("description", "canvas_type", "canvas_category", "avatar"):
            value = getattr(changes, name)
            if value is not None:
                setattr(agent, name, value)
                changed.append(name)
        try:
            with transaction.atomic():
                agent.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:  # a concurrent update took the title
            raise AgentTitleTaken(agent.title) from exc
    return agent


def agent_delete(*, tenant: User, agent_id: str) -> None:
    """Delete an agent; its sessions stay, as in RAGFlow."""
    deleted, _ = Agent.objects.filter(pk=agent_id, tenant=tenant).delete()
    if not deleted:
        raise AgentOwnerOnly()


# --- sessions ---------------------------------------------------------------------------------


def session_create(
    *, agent: Agent, user_id: str, name: str = "", inputs: dict[str, Any] | None = None
) -> AgentSession:
    """A new conversation on a fresh copy of the DSL; its first message is the prologue.

    `inputs` (ragflow-sdk 0.17 posts Begin values when creating a session) are kept and used
    by the session's runs when a completion does not send its own.
    """
    dsl = copy.deepcopy(agent.dsl)
    dsl["history"], dsl["path"], dsl["retrieval"] = [], [], []
    if inputs:
        dsl["session_inputs"] = inputs
    prologue = prologue_of(dsl)
    return AgentSession.objects.create(
        agent=agent,
        agent_key=agent.pk,
        tenant=agent.tenant,
        user_id=user_id,
        name=name,
        dsl=dsl,
        messages=[{"role": "assistant", "content": prologue}] if prologue else [],
    )


def session_delete(
    *, agent_id: str, tenant: User, ids: Sequence[str] | None
) -> tuple[int, list[str]]:
    """Delete the named sessions of an agent (all of them for `ids` None).

    Returns how many were deleted and one error per id that was repeated or not found.
    """
    sessions = agent_session_list(tenant=tenant, agent_id=agent_id)
    if ids is None:
        deleted, _ = sessions.delete()
        return deleted, []
    errors: list[str] = []
    seen: set[str] = set()
    deleted = 0
    for session_id in ids:
        if session_id in seen:
            errors.append(f"Duplicate session ids: {session_id}")
            continue
        seen.add(session_id)
        count, _ = sessions.filter(pk=session_id).delete()
        if count:
            deleted += 1
        else:
            errors.append(f"The agent doesn't own the session {session_id}")
    return deleted, errors


def session_delete_one(*, tenant: User, agent_id: str, session_id: str) -> int:
    """Delete one session of the caller's agent: 1, or AgentSessionNotFound."""
    deleted, _ = agent_session_list(tenant=tenant, agent_id=agent_id).filter(pk=session_id).delete()
    if not deleted:
        raise AgentSessionNotFound()
    return deleted


def session_history(session: AgentSession) -> list[tuple[str, str]]:
    turns = [
        (m["role"], m["content"])
        for m in session.messages
        if m.get("role") in ("user", "assistant")
    ]
    if turns and turns[0][0] == "assistant":
        turns = turns[1:]  # the prologue
    return turns


def session_record_turn(
    *,
    session_id: str,
    question: str,
    answer: str,
    reference: dict[str, Any] | None,
    message_id: str,
    seconds: float,
    error: str | None,
) -> None:
    with transaction.atomic():
        session = AgentSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None:
            return
        now = time.time()
        session.messages = [
            *session.messages,
            {"role": "user", "content": question, "id": message_id, "created_at": now},
            {"role": "assistant", "content": answer, "id": message_id, "created_at": now},
        ]
        session.references = [*session.references, reference or {}]
        session.round += 1
        session.duration += seconds
        changed = ["messages", "references", "round", "duration", "updated_at"]
        if error:
            session.errors = (session.errors + "\n" + error).strip()
            changed.append("errors")
        session.save(update_fields=changed)
