"""Agents and their sessions (contract §8.1–§8.3), and recording a run's turn."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from agents.models import Agent, AgentSession
from agents.runtime import DslError, prologue_of, validate_dsl
from agents.runtime.dsl import component_type
from agents.runtime.refs import TEMPLATE_REF, parse_ref
from knowledge.selectors import dataset_get_visible
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import ArgumentError, DataError, ServiceError


def _parse_dsl(tenant: User, dsl: Any) -> dict[str, Any]:
    if isinstance(dsl, str):
        try:
            dsl = json.loads(dsl)
        except ValueError as exc:
            raise ArgumentError("The DSL is not valid JSON.") from exc
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


def agent_create(*, tenant: User, body: dict[str, Any]) -> Agent:
    if not body.get("dsl"):
        raise ServiceError("No DSL data in request.", code=RetCode.ARGUMENT_ERROR, data=False)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ServiceError("No title in request.", code=RetCode.ARGUMENT_ERROR, data=False)
    title = title.strip()
    if Agent.objects.filter(tenant=tenant, title=title).exists():
        raise DataError(f"Agent with title {title} already exists.")
    dsl = _parse_dsl(tenant, body["dsl"])
    description = body.get("description")
    try:
        with transaction.atomic():
            return Agent.objects.create(
                tenant=tenant,
                title=title,
                dsl=dsl,
                description=str(description) if description is not None else None,
            )
    except IntegrityError as exc:
        raise DataError(f"Agent with title {title} already exists.") from exc


def _owned(tenant: User, agent_id: str) -> Agent:
    agent = Agent.objects.filter(pk=agent_id, tenant=tenant).first()
    if agent is None:
        raise OwnerOnly()
    return agent


class OwnerOnly(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            "Only owner of canvas authorized for this operation.",
            code=RetCode.OPERATING_ERROR,
            data=False,
        )


def agent_update(*, tenant: User, agent_id: str, body: dict[str, Any]) -> Agent:
    """Apply the sent (non-null) keys. The row is locked and only the changed columns are
    written, so other changes made at the same moment survive and a deleted agent stays gone."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(pk=agent_id, tenant=tenant).first()
        if agent is None:
            raise OwnerOnly()
        values = {k: v for k, v in body.items() if v is not None}
        changed: list[str] = []
        if "title" in values:
            title = str(values["title"]).strip()
            if not title:
                raise ServiceError("No title in request.", code=RetCode.ARGUMENT_ERROR, data=False)
            if Agent.objects.filter(tenant=tenant, title=title).exclude(pk=agent.pk).exists():
                raise DataError(f"Agent with title {title} already exists.")
            agent.title = title
            changed.append("title")
        if "description" in values:
            agent.description = str(values["description"])
            changed.append("description")
        if "dsl" in values:
            agent.dsl = _parse_dsl(tenant, values["dsl"])
            changed.append("dsl")
        try:
            with transaction.atomic():
                agent.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:  # a concurrent update took the title
            raise DataError(f"Agent with title {agent.title} already exists.") from exc
    return agent


def agent_delete(*, tenant: User, agent_id: str) -> None:
    _owned(tenant, agent_id).delete()


_ORDER = {"create_time": "created_at", "update_time": "updated_at", "title": "title", "id": "id"}


def agent_list(
    *, tenant: User, agent_id: str | None, title: str | None, orderby: str, desc: bool
) -> QuerySet[Agent]:
    query = Agent.objects.filter(tenant=tenant)
    if agent_id:
        query = query.filter(pk=agent_id)
    if title:
        query = query.filter(title=title)
    if (agent_id or title) and not query.exists():
        raise DataError("The agent doesn't exist.")
    column = _ORDER.get(orderby, "updated_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


# --- sessions ---------------------------------------------------------------------------------


def agent_for_session(tenant: User, agent_id: str) -> Agent:
    # Another tenant's agent answers like a missing one, so ids of others cannot be probed.
    agent = Agent.objects.filter(pk=agent_id, tenant=tenant).first()
    if agent is None:
        raise DataError("Agent not found.")
    return agent


def session_create(
    *, agent: Agent, user_id: str, inputs: dict[str, Any] | None = None
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
        dsl=dsl,
        messages=[{"role": "assistant", "content": prologue}] if prologue else [],
    )


def sessions_of(
    *,
    agent_id: str,
    tenant: User,
    session_id: str | None,
    user_id: str | None,
    orderby: str,
    desc: bool,
) -> QuerySet[AgentSession]:
    query = AgentSession.objects.filter(agent_key=agent_id, tenant=tenant)
    if session_id:
        query = query.filter(pk=session_id)
    if user_id:
        query = query.filter(user_id=user_id)
    column = _ORDER.get(orderby, "updated_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


def session_delete(
    *, agent_id: str, tenant: User, ids: Sequence[Any] | None
) -> tuple[int, list[str]]:
    sessions = AgentSession.objects.filter(agent_key=agent_id, tenant=tenant)
    if not sessions.exists():
        raise DataError(f"Agent {agent_id} has no sessions")
    if ids is None:
        deleted, _ = sessions.delete()
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
        count, _ = sessions.filter(pk=session_id).delete()
        if count:
            deleted += 1
        else:
            errors.append(f"The agent doesn't own the session {session_id}")
    return deleted, errors


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
