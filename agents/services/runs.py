"""Running an agent for a completion: session handling around agents.runtime.run_agent."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from agents.models import AgentSession
from agents.runtime import RunEvent, run_agent
from agents.selectors import (
    AgentNotFound,
    ErrorFactory,
    agent_get_owned_or_raise,
    agent_session_get_or_raise,
)
from agents.services.agents import session_create, session_history, session_record_turn
from chat.services.completions import checked_question
from ragsite.accounts.models import User


@dataclass
class PreparedRun:
    agent_id: str
    tenant: User
    session: AgentSession
    question: str
    inputs: dict[str, Any]
    user_id: str
    message_id: str = field(default_factory=lambda: uuid.uuid1().hex)


def run_prepare(
    *,
    tenant: User,
    agent_id: str,
    question: str,
    session_id: str | None = None,
    user_id: str | None = None,
    name: str = "",
    inputs: dict[str, Any] | None = None,
    agent_error: ErrorFactory = AgentNotFound,
) -> PreparedRun:
    """Check the agent and session (creating one when none is given) before streaming.

    A missing or foreign agent raises `agent_error()`; an unknown session, or one of another
    agent, AgentSessionNotFound. `inputs` None means the session's own (posted with it).
    """
    # The question's length first: a refused request creates no session.
    question = checked_question(question)
    agent = agent_get_owned_or_raise(tenant, agent_id, error=agent_error)
    user_id = user_id or tenant.pk
    if session_id:
        session = agent_session_get_or_raise(tenant, agent.pk, session_id)
    else:
        session = session_create(agent=agent, user_id=user_id, name=name)
    if inputs is None:
        inputs = dict(session.dsl.get("session_inputs") or {})
    return PreparedRun(agent.pk, tenant, session, question, inputs, user_id)


async def run_events(prepared: PreparedRun) -> AsyncIterator[RunEvent]:
    """The runtime's events; the turn is recorded in the session when the run ends."""
    started = time.monotonic()
    parts: list[str] = []
    reference: dict[str, Any] | None = None
    error: str | None = None
    try:
        async for event in run_agent(
            prepared.session.dsl,
            tenant=prepared.tenant,
            question=prepared.question,
            history=session_history(prepared.session),
            inputs=prepared.inputs,
            user_id=prepared.user_id,
            agent_id=prepared.agent_id,
            session_id=prepared.session.pk,
        ):
            if event.kind == "message":
                parts.append(event.content)
            elif event.kind == "message_end" and event.reference:
                reference = _merge(reference, event.reference)
            elif event.kind == "error":
                error = event.error
            yield event
    finally:
        answer = "".join(parts)
        await sync_to_async(session_record_turn)(
            session_id=prepared.session.pk,
            question=prepared.question,
            answer=answer if error is None else f"{answer}**ERROR**: {error}",
            reference=reference,
            message_id=prepared.message_id,
            seconds=time.monotonic() - started,
            error=error,
        )


def _merge(into: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {"chunks": {}, "doc_aggs": {}} if into is None else into
    merged["chunks"].update(new.get("chunks") or {})
    merged["doc_aggs"].update(new.get("doc_aggs") or {})
    return merged
