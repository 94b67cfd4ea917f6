"""The agent services and selectors called directly with typed inputs (no HTTP), and the request
models that turn either generation's wire body into those inputs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.http import Http404
from django.utils import timezone

from agents.api.schemas import (
    AgentCompletionIn,
    AgentCreateIn,
    AgentSessionCreateIn,
    AgentUpdateIn,
)
from agents.models import Agent, AgentSession
from agents.selectors import (
    AgentFilters,
    AgentNotFound,
    AgentSessionNotFound,
    SessionFilters,
    agent_get_owned_or_raise,
    agent_list,
    agent_session_get,
    agent_session_get_or_raise,
    agent_session_list,
)
from agents.services.agents import (
    AgentChanges,
    AgentOwnerOnly,
    AgentTitleTaken,
    agent_create,
    agent_delete,
    agent_update,
    session_create,
    session_delete,
    session_delete_one,
)
from agents.services.runs import run_events, run_prepare
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, ServiceError
from tests.agents.api.dsls import echo_dsl

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_no_service_takes_a_raw_body() -> None:
    pattern = re.compile(r"\bbody: (dict|Any|Mapping)")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "agents" / "services").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


# --- agents -----------------------------------------------------------------------------------


def test_create_with_typed_fields(tenant: User) -> None:
    agent = agent_create(
        tenant=tenant,
        title="  Walrus  ",
        dsl=echo_dsl(),
        description="counts",
        canvas_type="chatbot",
        canvas_category="dataflow_canvas",
        avatar="data:image/png;base64,AA==",
        release=True,
    )
    stored = Agent.objects.get(pk=agent.pk)
    assert stored.title == "Walrus" and stored.description == "counts"
    assert stored.canvas_type == "chatbot" and stored.canvas_category == "dataflow_canvas"
    assert stored.avatar.startswith("data:image/png") and stored.published_at is not None
    assert stored.dsl["globals"]["sys.query"] == ""  # validated and filled in
    plain = agent_create(tenant=tenant, title="Plain", dsl=echo_dsl())
    assert plain.canvas_category == "agent_canvas" and plain.published_at is None


def test_create_refusals(tenant: User) -> None:
    agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl())
    with pytest.raises(AgentTitleTaken) as taken:
        agent_create(tenant=tenant, title="WALRUS", dsl=echo_dsl())
    assert taken.value.title == "WALRUS"
    assert taken.value.message == "Agent with title WALRUS already exists."
    with pytest.raises(ServiceError, match="No title in request."):
        agent_create(tenant=tenant, title="   ", dsl=echo_dsl())
    with pytest.raises(ArgumentError, match="Invalid DSL"):
        agent_create(tenant=tenant, title="Broken", dsl={"components": {}})
    assert Agent.objects.count() == 1


def test_update_changes_only_what_is_given(tenant: User, other_tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl(), description="d")
    before = Agent.objects.get(pk=agent.pk)
    agent_update(tenant=tenant, agent_id=agent.pk, changes=AgentChanges(dsl=echo_dsl("New")))
    after = Agent.objects.get(pk=agent.pk)
    assert after.title == "Walrus" and after.description == "d"
    assert after.dsl["components"]["begin"]["obj"]["params"]["prologue"] == "New"
    assert after.published_at is None and after.updated_at > before.updated_at
    agent_update(
        tenant=tenant,
        agent_id=agent.pk,
        changes=AgentChanges(title="Renamed", canvas_type="chatbot", dsl=echo_dsl(), release=True),
    )
    after = Agent.objects.get(pk=agent.pk)
    assert after.title == "Renamed" and after.canvas_type == "chatbot"
    assert after.published_at is not None
    agent_create(tenant=tenant, title="Taken", dsl=echo_dsl())
    with pytest.raises(AgentTitleTaken):
        agent_update(tenant=tenant, agent_id=agent.pk, changes=AgentChanges(title="taken"))
    with pytest.raises(AgentOwnerOnly):
        agent_update(tenant=other_tenant, agent_id=agent.pk, changes=AgentChanges(title="x"))
    with pytest.raises(AgentOwnerOnly):
        agent_delete(tenant=other_tenant, agent_id=agent.pk)
    assert Agent.objects.get(pk=agent.pk).title == "Renamed"


def test_delete_keeps_the_sessions(tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl())
    session = session_create(agent=agent, user_id="u")
    agent_delete(tenant=tenant, agent_id=agent.pk)
    assert not Agent.objects.exists()
    kept = AgentSession.objects.get(pk=session.pk)
    assert kept.agent_id is None and kept.agent_key == agent.pk
    assert agent_session_get(tenant, agent.pk, session.pk) is None  # no agent, no access


# --- selectors --------------------------------------------------------------------------------


def test_owned_or_raise(tenant: User, other_tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl())
    assert agent_get_owned_or_raise(tenant, agent.pk) == agent
    with pytest.raises(AgentNotFound, match="Agent not found."):
        agent_get_owned_or_raise(other_tenant, agent.pk)
    with pytest.raises(Http404):
        agent_get_owned_or_raise(other_tenant, agent.pk, error=Http404)
    session = session_create(agent=agent, user_id="u")
    assert agent_session_get_or_raise(tenant, agent.pk, session.pk) == session
    with pytest.raises(AgentSessionNotFound, match="Session not found!"):
        agent_session_get_or_raise(other_tenant, agent.pk, session.pk)


def test_agent_list_filters(tenant: User, other_tenant: User) -> None:
    agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl(), description="counts animals")
    agent_create(tenant=tenant, title="Flow", dsl=echo_dsl(), canvas_category="dataflow_canvas")
    agent_create(tenant=other_tenant, title="Walrus", dsl=echo_dsl())

    def titles(filters: AgentFilters, orderby: str = "title", desc: bool = False) -> list[str]:
        return [
            a.title for a in agent_list(tenant=tenant, filters=filters, orderby=orderby, desc=desc)
        ]

    assert titles(AgentFilters()) == ["Flow", "Walrus"]
    assert titles(AgentFilters(), orderby="create_time", desc=True) == ["Flow", "Walrus"]
    assert titles(AgentFilters(keywords="ANIMAL")) == ["Walrus"]
    assert titles(AgentFilters(title="walrus")) == []  # v0.22's title filter is exact
    assert titles(AgentFilters(canvas_categories=["dataflow_canvas"])) == ["Flow"]
    assert titles(AgentFilters(tags=["x"])) == []


def test_session_list_filters(tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl())
    old = session_create(agent=agent, user_id="u1", name="About walruses")
    AgentSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    new = session_create(agent=agent, user_id="u2")

    def ids(filters: SessionFilters) -> set[str]:
        return set(
            agent_session_list(tenant=tenant, agent_id=agent.pk, filters=filters).values_list(
                "pk", flat=True
            )
        )

    assert ids(SessionFilters()) == {old.pk, new.pk}
    assert ids(SessionFilters(keywords="WALRUS")) == {old.pk}
    assert ids(SessionFilters(user_id="u2")) == {new.pk}
    assert ids(SessionFilters(created_from=timezone.now() - timedelta(days=1))) == {new.pk}
    assert ids(SessionFilters(created_before=timezone.now() - timedelta(days=1))) == {old.pk}


# --- sessions ---------------------------------------------------------------------------------


def test_session_create_and_delete(tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl("Hello"))
    session = session_create(agent=agent, user_id="u", name="Named", inputs={"lang": {"value": 1}})
    assert session.name == "Named" and session.dsl["session_inputs"] == {"lang": {"value": 1}}
    assert session.messages == [{"role": "assistant", "content": "Hello"}]
    others = [session_create(agent=agent, user_id="u").pk for _ in range(2)]
    assert session_delete(agent_id=agent.pk, tenant=tenant, ids=[others[0], others[0], "x"]) == (
        1,
        [f"Duplicate session ids: {others[0]}", "The agent doesn't own the session x"],
    )
    assert session_delete_one(tenant=tenant, agent_id=agent.pk, session_id=others[1]) == 1
    with pytest.raises(AgentSessionNotFound):
        session_delete_one(tenant=tenant, agent_id=agent.pk, session_id=others[1])
    assert session_delete(agent_id=agent.pk, tenant=tenant, ids=[]) == (0, [])
    assert session_delete(agent_id=agent.pk, tenant=tenant, ids=None) == (1, [])
    assert not AgentSession.objects.exists()


def test_run_with_typed_inputs(tenant: User, other_tenant: User) -> None:
    agent = agent_create(tenant=tenant, title="Walrus", dsl=echo_dsl())
    prepared = run_prepare(tenant=tenant, agent_id=agent.pk, question="hi", name="From a run")
    assert prepared.session.name == "From a run" and prepared.user_id == tenant.pk

    async def collect() -> str:
        return "".join([e.content async for e in run_events(prepared) if e.kind == "message"])

    assert async_to_sync(collect)() == "You said: hi"
    stored = AgentSession.objects.get(pk=prepared.session.pk)
    assert [m["content"] for m in stored.messages if m["role"] == "user"] == ["hi"]
    again = run_prepare(
        tenant=tenant, agent_id=agent.pk, question="again", session_id=prepared.session.pk
    )
    assert again.session.pk == prepared.session.pk
    with pytest.raises(AgentNotFound):
        run_prepare(tenant=other_tenant, agent_id=agent.pk, question="hi")
    with pytest.raises(Http404):
        run_prepare(tenant=other_tenant, agent_id=agent.pk, question="hi", agent_error=Http404)
    other = agent_create(tenant=tenant, title="Other", dsl=echo_dsl())
    with pytest.raises(AgentSessionNotFound):
        run_prepare(tenant=tenant, agent_id=other.pk, question="hi", session_id=prepared.session.pk)
    with pytest.raises(ArgumentError, match="too long"):
        run_prepare(tenant=tenant, agent_id=agent.pk, question="x" * 8001)
    assert AgentSession.objects.count() == 1


# --- request models ---------------------------------------------------------------------------


def test_create_model_holds_the_wire_leniency() -> None:
    values = AgentCreateIn.from_body(
        {
            "title": "t",
            "dsl": json.dumps(echo_dsl()),
            "description": 5,
            "avatar": None,
            "release": "false",
            "unknown": 1,
        }
    )
    assert values.dsl == echo_dsl() and values.description == "5" and values.avatar is None
    assert values.release is False and values.canvas_category == "agent_canvas"


def test_update_model_builds_changes() -> None:
    changes = AgentUpdateIn.from_body({"title": None, "description": "d", "release": 1}).changes()
    assert changes == AgentChanges(description="d", release=True)


def test_session_model_splits_fields_and_inputs() -> None:
    values = AgentSessionCreateIn.from_request(
        {"user_id": 42, "name": "n", "release": True, "lang": "fr"}, {"user_id": "query"}
    )
    assert values.user_id == "42" and values.name == "n" and values.inputs == {"lang": "fr"}
    assert AgentSessionCreateIn.from_request({}, {"user_id": "query"}).user_id == "query"


def test_completion_model() -> None:
    values = AgentCompletionIn.from_body(
        {"agent_id": "a", "query": "q", "openai-compatible": False, "session_id": None}
    )
    assert values.question == "q" and values.session_id is None and not values.openai_compatible
    assert values.streams(default=False) is False and values.streams(default=True) is True
    assert AgentCompletionIn.from_body({"stream": "false"}).streams(default=True) is False
    with pytest.raises(ArgumentError, match="`question` should be a string."):
        AgentCompletionIn.from_body({"question": 0})
    with pytest.raises(ArgumentError, match="`inputs` should be an object."):
        AgentCompletionIn.from_body({"inputs": [1]})
