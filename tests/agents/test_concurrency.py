"""Agent writes that race keep each other's changes: title, description and DSL changed at the
same moment, turns recorded meanwhile, and an update racing a delete.

These run for real in parallel: each thread has its own PostgreSQL connection and commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agents.models import Agent, AgentSession
from agents.services.agents import (
    AgentChanges,
    agent_create,
    agent_delete,
    agent_update,
    session_create,
    session_record_turn,
)
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 12
RECORDERS = 6
TURNS_EACH = 8


def dsl(prologue: str) -> dict[str, Any]:
    return {
        "components": {
            "begin": {
                "obj": {"component_name": "Begin", "params": {"prologue": prologue}},
                "downstream": ["Message:Reply"],
                "upstream": [],
            },
            "Message:Reply": {
                "obj": {"component_name": "Message", "params": {"content": ["{sys.query}"]}},
                "downstream": [],
                "upstream": ["begin"],
            },
        }
    }


@pytest.fixture
def tenant() -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def agent(tenant: User) -> Agent:
    return agent_create(tenant=tenant, title="racing", dsl=dsl("Hi"))


def test_agent_changes_and_recorded_turns_all_survive(tenant: User, agent: Agent) -> None:
    import threading

    session = session_create(agent=agent, user_id=tenant.pk)
    changes: dict[str, Callable[[int], AgentChanges]] = {
        "title": lambda r: AgentChanges(title=f"racing {r}"),
        "description": lambda r: AgentChanges(description=f"about {r}"),
        "dsl": lambda r: AgentChanges(dsl=dsl(f"Hi {r}")),
    }
    round_end = threading.Barrier(len(changes) + 1, timeout=300)
    lost: list[str] = []

    def changer(key: str) -> Callable[[], None]:
        def work() -> None:
            for r in range(ROUNDS):
                agent_update(tenant=tenant, agent_id=agent.pk, changes=changes[key](r))
                round_end.wait()
                round_end.wait()

        return work

    def checker() -> None:
        for r in range(ROUNDS):
            round_end.wait()
            row = Agent.objects.get(pk=agent.pk)
            found = {
                "title": row.title == f"racing {r}",
                "description": row.description == f"about {r}",
                "dsl": row.dsl["components"]["begin"]["obj"]["params"]["prologue"] == f"Hi {r}",
            }
            lost.extend(f"round {r}: {key}" for key, kept in found.items() if not kept)
            round_end.wait()

    def recorder(worker: int) -> Callable[[], None]:
        def work() -> None:
            for turn in range(TURNS_EACH):
                session_record_turn(
                    session_id=session.pk,
                    question=f"question {worker}-{turn}",
                    answer=f"answer {worker}-{turn}",
                    reference=None,
                    message_id=f"{worker}-{turn}",
                    seconds=0.5,
                    error=None,
                )

        return work

    run_together(
        [changer(key) for key in changes] + [checker] + [recorder(w) for w in range(RECORDERS)]
    )
    assert lost == []
    stored = AgentSession.objects.get(pk=session.pk)
    expected = {f"question {w}-{t}" for w in range(RECORDERS) for t in range(TURNS_EACH)}
    assert {m["content"] for m in stored.messages if m["role"] == "user"} == expected
    assert stored.round == len(expected) and stored.duration == 0.5 * len(expected)


def test_an_update_racing_a_delete_does_not_bring_the_agent_back(
    tenant: User, agent: Agent
) -> None:
    def update() -> None:
        for i in range(40):
            try:
                agent_update(
                    tenant=tenant, agent_id=agent.pk, changes=AgentChanges(description=f"d{i}")
                )
            except ServiceError:
                return  # deleted: "Only owner of canvas authorized for this operation."

    def delete() -> None:
        agent_delete(tenant=tenant, agent_id=agent.pk)

    run_together([update, update, delete])
    assert not Agent.objects.filter(pk=agent.pk).exists()
