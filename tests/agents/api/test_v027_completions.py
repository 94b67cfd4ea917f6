"""POST /api/v1/agents/chat/completions (contract v0.27 §3.6; ragflow-sdk 0.27.3 `Session.ask`)
next to the v0.22 path /agents/{id}/completions, which forwards only `message` and
`message_end` (R6)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from agents.models import Agent, AgentSession
from agents.services.agents import agent_create, session_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.ids import new_id
from tests.agents.api.dsls import echo_dsl, sse_events, walrus_dsl
from tests.conftest import ApiClient
from tests.helpers import assert_error, assert_ok, body_of

pytestmark = pytest.mark.django_db

PATH = "/api/v1/agents/chat/completions"
QUESTION = "How many walruses were counted on Kolguev island?"


@pytest.fixture
def echo(tenant: User) -> Agent:
    return agent_create(tenant=tenant, title="echo", dsl=echo_dsl())


@pytest.fixture
def walrus(api: ApiClient, tenant: User) -> Agent:
    dataset = assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))
    part = io.BytesIO(b"x")
    part.name = "facts.txt"
    (doc,) = assert_ok(
        api.client.post(
            f"/api/v1/datasets/{dataset['id']}/documents", {"file": [part]}, headers=api.headers
        )
    )
    assert_ok(
        api.post(
            f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks",
            {"content": "The walrus colony on Kolguev island was counted at 4312 animals in 2019."},
        )
    )
    return agent_create(tenant=tenant, title="walrus", dsl=walrus_dsl(dataset["id"]))


def sdk_body(agent: Agent, session: AgentSession | None, question: str, **extra: Any) -> dict:
    """What ragflow-sdk 0.27.3 `Session.ask` posts."""
    return {
        "agent_id": agent.pk,
        "query": question,
        "stream": False,
        "session_id": session.pk if session else None,
        "openai-compatible": False,
        **extra,
    }


def test_streamed_answer_with_references(api: ApiClient, walrus: Agent, tenant: User) -> None:
    session = session_create(agent=walrus, user_id=tenant.pk)
    events, last = sse_events(api.post(PATH, sdk_body(walrus, session, QUESTION, stream=True)))
    assert last == "data:[DONE]"
    assert {e["event"] for e in events} == {"message", "message_end"}
    for event in events:
        assert event["session_id"] == session.pk and event["task_id"] == walrus.pk
        assert isinstance(event["created_at"], int) and event["message_id"]
    text = "".join(e["data"]["content"] for e in events if e["event"] == "message")
    assert "4312" in text
    end = [e for e in events if e["event"] == "message_end"][-1]
    assert end["data"]["reference"]["chunks"]["0"]["content"].startswith("The walrus")
    stored = AgentSession.objects.get(pk=session.pk)
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]


def test_plain_answer_is_the_default(api: ApiClient, walrus: Agent, tenant: User) -> None:
    session = session_create(agent=walrus, user_id=tenant.pk)
    body = sdk_body(walrus, session, QUESTION)
    del body["stream"]  # stream defaults to false here
    data = assert_ok(api.post(PATH, body))
    assert data["event"] == "message_end" and data["session_id"] == session.pk
    assert "4312" in data["data"]["content"]  # what both SDKs read
    assert data["data"]["reference"]["chunks"]["0"]["content"].startswith("The walrus")
    assert "trace" not in data["data"]
    traced = assert_ok(api.post(PATH, sdk_body(walrus, session, QUESTION, return_trace=True)))
    assert traced["data"]["trace"] == []


def test_question_or_query_and_inputs(api: ApiClient, echo: Agent, tenant: User) -> None:
    session = session_create(agent=echo, user_id=tenant.pk)
    for key in ("query", "question"):
        body = {"agent_id": echo.pk, key: "hello", "session_id": session.pk}
        assert assert_ok(api.post(PATH, body))["data"]["content"] == "You said: hello"


def test_without_a_session_one_is_made(api: ApiClient, echo: Agent) -> None:
    data = assert_ok(
        api.post(
            PATH,
            {
                "agent_id": echo.pk,
                "query": "hi",
                "user_id": "end-user",
                "name": "Run",
                "stream": False,
            },
        )
    )
    session = AgentSession.objects.get(pk=data["session_id"])
    assert session.agent_key == echo.pk and session.user_id == "end-user"
    assert session.name == "Run"
    events, last = sse_events(api.post(PATH, {"agent_id": echo.pk, "query": "hi", "stream": True}))
    assert last == "data:[DONE]" and events[0]["event"] == "message"
    assert AgentSession.objects.filter(agent_key=echo.pk).count() == 2


def test_the_singular_path_too(api: ApiClient, echo: Agent) -> None:
    data = assert_ok(
        api.post("/api/v1/agents/chat/completion", {"agent_id": echo.pk, "query": "x"})
    )
    assert data["data"]["content"] == "You said: x"


def test_refusals(api: ApiClient, other_api: ApiClient, echo: Agent, tenant: User) -> None:
    assert body_of(api.post(PATH, {"query": "hi"})) == {
        "code": RetCode.ARGUMENT_ERROR,
        "message": "`agent_id` is required.",
        "data": False,
    }
    assert body_of(api.post(PATH, {"agent_id": echo.pk, "query": "hi", "session_id": "nope"})) == {
        "code": RetCode.DATA_ERROR,
        "message": "Session not found!",
    }
    other = agent_create(tenant=tenant, title="other", dsl=echo_dsl())
    elsewhere = session_create(agent=other, user_id=tenant.pk)
    assert body_of(api.post(PATH, {"agent_id": echo.pk, "session_id": elsewhere.pk})) == {
        "code": RetCode.OPERATING_ERROR,
        "message": "Session does not belong to the requested agent.",
        "data": False,
    }
    no_access = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Make sure you have permission to access the agent.",
        "data": False,
    }
    assert body_of(other_api.post(PATH, {"agent_id": echo.pk, "query": "hi"})) == no_access
    assert body_of(other_api.post(PATH, {"agent_id": new_id(), "query": "hi"})) == no_access
    # Someone else's session is not found, whoever's agent is named.
    theirs = session_create(agent=echo, user_id=tenant.pk)
    assert_error(
        other_api.post(PATH, {"agent_id": echo.pk, "session_id": theirs.pk}),
        RetCode.DATA_ERROR,
        "Session not found!",
    )
    assert_error(api.post(PATH, {"agent_id": echo.pk, "query": 5}), RetCode.ARGUMENT_ERROR)
    assert AgentSession.objects.filter(agent_key=echo.pk).count() == 1


def test_openai_mode(api: ApiClient, walrus: Agent) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    body = {"agent_id": walrus.pk, "openai-compatible": True, "messages": messages}
    reply = body_of(api.post(PATH, body))  # not an envelope: OpenAI's shape, stream off
    assert (
        reply["object"] == "chat.completion" and "4312" in reply["choices"][0]["message"]["content"]
    )
    session_id = reply["id"]
    assert AgentSession.objects.filter(pk=session_id, agent_key=walrus.pk).exists()
    streamed = api.post(PATH, {**body, "stream": True, "session_id": session_id})
    assert streamed["Content-Type"] == "text/event-stream; charset=utf-8"
    assert_error(
        api.post(PATH, {**body, "messages": []}),
        RetCode.DATA_ERROR,
        "You must provide at least one message.",
    )


def test_old_path_forwards_only_message_and_message_end(api: ApiClient, walrus: Agent) -> None:
    body = {"question": QUESTION, "stream": True}
    events, last = sse_events(api.post(f"/api/v1/agents/{walrus.pk}/completions", body))
    assert last == "data:[DONE]"
    assert {e["event"] for e in events} == {"message", "message_end"}
    # Its stream still defaults to true.
    response = api.post(f"/api/v1/agents/{walrus.pk}/completions", {"question": QUESTION})
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"


def test_the_agent_named_chat_is_not_matched(api: ApiClient, echo: Agent) -> None:
    # `agents/chat/completions` is its own route, never agent "chat"'s old-path completions.
    body = body_of(api.post(PATH, {"agent_id": echo.pk, "question": "routing"}))
    assert body["code"] == 0 and body["data"]["task_id"] == echo.pk
