"""Agents and agent sessions in Django admin: listed with their owner, searchable, agents
changed only through `agent_update`, sessions read-only (issue 16)."""

from __future__ import annotations

import copy
import json

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent, AgentSession
from agents.services.agents import agent_create, session_create
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db

DSL = {
    "components": {
        "begin": {
            "obj": {"component_name": "Begin", "params": {"prologue": "Hi"}},
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
def root(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-1"))
    return client


@pytest.fixture
def agent(tenant: User) -> Agent:
    return agent_create(tenant=tenant, title="Echo", dsl=copy.deepcopy(DSL))


@pytest.fixture
def session(agent: Agent) -> AgentSession:
    session = session_create(agent=agent, user_id="visitor-7", name="First visit")
    session.messages.append({"role": "user", "content": "<script>x</script> hello"})
    session.save()
    return session


def url(model: str, action: str, *args: str) -> str:
    return reverse(f"admin:agents_{model}_{action}", args=args)


def test_agent_changelist_shows_the_owner_and_searches(root: Client, agent: Agent) -> None:
    agent_create(tenant=agent.tenant, title="Parrot", dsl=copy.deepcopy(DSL))
    page = root.get(url("agent", "changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Echo" in body and "Parrot" in body and "alice" in body
    found = root.get(url("agent", "changelist"), {"q": "parrot"}).content.decode()
    assert "Parrot" in found and ">Echo<" not in found
    assert (
        root.get(url("agent", "changelist"), {"canvas_category": "agent_canvas"}).status_code == 200
    )


def test_agent_change_page_edits_through_the_service(root: Client, agent: Agent) -> None:
    assert root.get(url("agent", "change", agent.pk)).status_code == 200
    dsl = copy.deepcopy(DSL)
    dsl["components"]["begin"]["obj"]["params"]["prologue"] = "Hello there"
    response = root.post(
        url("agent", "change", agent.pk),
        {"title": "Echo 2", "description": "Says it back", "dsl": json.dumps(dsl)},
    )
    assert response.status_code == 302, response.content[:2000]
    agent.refresh_from_db()
    assert (agent.title, agent.description) == ("Echo 2", "Says it back")
    assert agent.dsl["components"]["begin"]["obj"]["params"]["prologue"] == "Hello there"


def test_a_dsl_the_service_refuses_is_a_form_error(root: Client, agent: Agent) -> None:
    response = root.post(
        url("agent", "change", agent.pk),
        {"title": "Echo", "description": "", "dsl": '{"components": {"x": 1}}'},
    )
    assert response.status_code == 200
    assert "Invalid DSL: Component &#x27;x&#x27; has no `obj` object." in response.content.decode()
    assert Agent.objects.get(pk=agent.pk).dsl == agent.dsl


def test_agent_session_pages_are_read_only_and_searchable(
    root: Client, session: AgentSession
) -> None:
    listing = root.get(url("agentsession", "changelist"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert session.pk in body and "Echo" in body and "alice" in body
    assert (
        session.pk
        in root.get(url("agentsession", "changelist"), {"q": "visitor-7"}).content.decode()
    )
    assert (
        session.pk not in root.get(url("agentsession", "changelist"), {"q": "zzz"}).content.decode()
    )

    page = root.get(url("agentsession", "change", session.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert "&lt;script&gt;x&lt;/script&gt; hello" in text and "<script>x</script>" not in text
    assert 'name="name"' not in text  # nothing to edit
    posted = root.post(url("agentsession", "change", session.pk), {"name": "changed"})
    assert posted.status_code == 403
    assert AgentSession.objects.get(pk=session.pk).name == "First visit"


def test_sessions_outlive_their_agent_in_admin(root: Client, session: AgentSession) -> None:
    response = root.post(url("agent", "delete", session.agent_key), {"post": "yes"})
    assert response.status_code == 302
    assert not Agent.objects.exists()
    page = root.get(url("agentsession", "change", session.pk))
    assert page.status_code == 200 and "deleted agent" in page.content.decode()

    gone = root.post(url("agentsession", "delete", session.pk), {"post": "yes"})
    assert gone.status_code == 302 and not AgentSession.objects.exists()


def test_agents_and_sessions_cannot_be_added_in_admin(root: Client) -> None:
    assert root.get(url("agent", "add")).status_code == 403
    assert root.get(url("agentsession", "add")).status_code == 403
