"""Someone else's agent answers exactly like an agent that does not exist, on every route, so
the answers cannot tell anyone which ids are in use."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agents.models import Agent
from agents.services.agents import agent_create, session_create
from ragsite.accounts.models import User
from ragsite.ids import new_id
from tests.conftest import ApiClient
from tests.probing import answer

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
QUESTION = [{"role": "user", "content": "hello"}]


@pytest.fixture
def theirs(other_tenant: User) -> Agent:
    agent = agent_create(tenant=other_tenant, title="private", dsl=DSL)
    session_create(agent=agent, user_id=other_tenant.pk)
    return agent


API_CALLS = [
    ("get", "/api/v1/agents?id={id}", None),
    ("get", "/api/v1/agents/{id}", None),
    ("put", "/api/v1/agents/{id}", {"title": "mine now"}),
    ("delete", "/api/v1/agents/{id}", {}),
    ("post", "/api/v1/agents/{id}/sessions", {}),
    ("get", "/api/v1/agents/{id}/sessions", None),
    ("delete", "/api/v1/agents/{id}/sessions", {"ids": ["x"]}),
    ("delete", "/api/v1/agents/{id}/sessions", {"delete_all": True}),
    ("get", "/api/v1/agents/{id}/sessions/{sid}", None),
    ("delete", "/api/v1/agents/{id}/sessions/{sid}", {}),
    ("post", "/api/v1/agents/{id}/completions", {"question": "hello", "stream": False}),
    ("post", "/api/v1/agents/{id}/completions", {"question": "hello", "stream": True}),
    ("post", "/api/v1/agents/chat/completions", {"agent_id": "{id}", "query": "hello"}),
    (
        "post",
        "/api/v1/agents/chat/completions",
        {"agent_id": "{id}", "query": "hello", "stream": True},
    ),
    (
        "post",
        "/api/v1/agents/chat/completions",
        {"agent_id": "{id}", "openai-compatible": True, "messages": QUESTION},
    ),
    ("post", "/api/v1/agents_openai/{id}/chat/completions", {"model": "m", "messages": QUESTION}),
    (
        "post",
        "/api/v1/agents_openai/{id}/chat/completions",
        {"model": "m", "messages": QUESTION, "stream": True},
    ),
]


@pytest.mark.parametrize("generation", ["v0.22", "v0.27"])
@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_api_answers_the_same_for_a_foreign_and_a_missing_agent(
    request: pytest.FixtureRequest,
    generation: str,
    theirs: Agent,
    method: str,
    path: str,
    body: Any,
) -> None:
    api: ApiClient = request.getfixturevalue("api22" if generation == "v0.22" else "api")
    missing = new_id()
    session_id = theirs.sessions.get().pk

    def call(agent_id: str) -> tuple[int, str]:
        url = path.format(id=agent_id, sid=session_id)
        if method == "get":
            base, _, query = url.partition("?")
            params = dict(p.split("=") for p in query.split("&")) if query else None
            return answer(api.get(base, params), agent_id)
        sent = body
        if isinstance(body, dict):
            sent = {k: v.format(id=agent_id) if isinstance(v, str) else v for k, v in body.items()}
        return answer(getattr(api, method)(url, sent), agent_id)

    assert call(theirs.pk) == call(missing)
    assert Agent.objects.get(pk=theirs.pk).title == "private"
    assert theirs.sessions.count() == 1


def test_pages_answer_404_for_a_foreign_and_a_missing_agent(
    client: Client, tenant: User, theirs: Agent
) -> None:
    client.force_login(tenant)
    session = theirs.sessions.get()
    for agent_id in (theirs.pk, new_id()):
        for method, name, args in [
            ("get", "agents:agent_detail", [agent_id]),
            ("get", "agents:edit_agent", [agent_id]),
            ("post", "agents:edit_agent", [agent_id]),
            ("post", "agents:delete_agent", [agent_id]),
            ("post", "agents:create_session", [agent_id]),
            ("get", "agents:session_detail", [agent_id, session.pk]),
            ("post", "agents:delete_session", [agent_id, session.pk]),
        ]:
            response = getattr(client, method)(reverse(name, args=args))
            assert response.status_code == 404, (name, agent_id)
    assert Agent.objects.filter(pk=theirs.pk).exists() and theirs.sessions.count() == 1
