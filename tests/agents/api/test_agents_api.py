"""Agent endpoints on literal paths (contract §8, §7.2), as RAGFlow v0.22 answers them: the
clients here hold v0.22 keys (the v0.27 answers: test_v027_*.py)."""

from __future__ import annotations

import copy
import io
import json

import pytest
from asgiref.sync import async_to_sync

from agents.models import Agent, AgentSession
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

DSL = {
    "components": {
        "begin": {
            "obj": {
                "component_name": "Begin",
                "params": {"prologue": "Hi, ask me about walruses."},
            },
            "downstream": ["Retrieval:Facts"],
            "upstream": [],
        },
        "Retrieval:Facts": {
            "obj": {
                "component_name": "Retrieval",
                "params": {"kb_ids": [], "query": "sys.query", "top_n": 4},
            },
            "downstream": ["LLM:Answer"],
            "upstream": ["begin"],
        },
        "LLM:Answer": {
            "obj": {
                "component_name": "LLM",
                "params": {
                    "sys_prompt": "Answer from this knowledge: {Retrieval:Facts@formalized_content}",
                    "prompts": [{"role": "user", "content": "{sys.query}"}],
                },
            },
            "downstream": ["Message:Reply"],
            "upstream": ["Retrieval:Facts"],
        },
        "Message:Reply": {
            "obj": {"component_name": "Message", "params": {"content": ["{LLM:Answer@content}"]}},
            "downstream": [],
            "upstream": ["LLM:Answer"],
        },
    },
    "history": [],
    "path": [],
    "retrieval": [],
    "globals": {"sys.query": "", "sys.user_id": "", "sys.conversation_turns": 0, "sys.files": []},
}


@pytest.fixture
def api(api22):
    return api22


@pytest.fixture
def other_api(other_api22):
    return other_api22


def collect(response) -> str:
    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)().decode()


@pytest.fixture
def dataset(api) -> dict:
    data = assert_ok(api.post("/api/v1/datasets", {"name": "kb"}))
    part = io.BytesIO(b"x")
    part.name = "facts.txt"
    (doc,) = assert_ok(
        api.client.post(
            f"/api/v1/datasets/{data['id']}/documents", {"file": [part]}, headers=api.headers
        )
    )
    assert_ok(
        api.post(
            f"/api/v1/datasets/{data['id']}/documents/{doc['id']}/chunks",
            {"content": "The walrus colony on Kolguev island was counted at 4312 animals in 2019."},
        )
    )
    return data


@pytest.fixture
def agent(api, dataset) -> dict:
    dsl = copy.deepcopy(DSL)
    dsl["components"]["Retrieval:Facts"]["obj"]["params"]["kb_ids"] = [dataset["id"]]
    assert body_of(api.post("/api/v1/agents", {"title": "walrus agent", "dsl": dsl})) == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    (found,) = assert_ok(api.get("/api/v1/agents", {"title": "walrus agent"}))
    return found


def test_create_and_list(api, agent, tenant) -> None:
    assert agent["title"] == "walrus agent" and agent["user_id"] == tenant.pk
    assert agent["canvas_category"] == "agent_canvas" and agent["dsl"]["components"]["begin"]
    assert [a["id"] for a in assert_ok(api.get("/api/v1/agents", {"id": agent["id"]}))] == [
        agent["id"]
    ]
    assert_error(
        api.get("/api/v1/agents", {"title": "ghost"}),
        RetCode.DATA_ERROR,
        "The agent doesn't exist.",
    )


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"title": "x"}, RetCode.ARGUMENT_ERROR, "No DSL data in request."),
        ({"dsl": DSL}, RetCode.ARGUMENT_ERROR, "No title in request."),
        ({"title": "x", "dsl": {"components": {}}}, RetCode.ARGUMENT_ERROR, "Invalid DSL"),
        ({"title": "x", "dsl": "{not json"}, RetCode.ARGUMENT_ERROR, "not valid JSON"),
    ],
)
def test_create_errors(api, body, code, message) -> None:
    response = api.post("/api/v1/agents", body)
    assert_error(response, code, message)


def test_create_refuses_a_duplicate_title_and_a_dangling_reference(api, agent) -> None:
    assert_error(
        api.post("/api/v1/agents", {"title": "walrus agent", "dsl": DSL}),
        RetCode.DATA_ERROR,
        "Agent with title walrus agent already exists.",
    )
    broken = copy.deepcopy(DSL)
    broken["components"]["Message:Reply"]["obj"]["params"]["content"] = ["{LLM:Nope@content}"]
    assert_error(
        api.post("/api/v1/agents", {"title": "b", "dsl": json.dumps(broken)}),
        RetCode.ARGUMENT_ERROR,
        "LLM:Nope",
    )


def test_update_and_delete_are_owner_only(api, other_api, agent) -> None:
    url = f"/api/v1/agents/{agent['id']}"
    denied = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Only owner of canvas authorized for this operation.",
        "data": False,
    }
    assert body_of(other_api.put(url, {"title": "stolen"})) == denied
    assert body_of(other_api.delete(url, {})) == denied
    assert (
        body_of(api.put(url, {"title": "renamed", "description": None, "dsl": DSL}))["data"] is True
    )
    assert Agent.objects.get(pk=agent["id"]).title == "renamed"
    assert body_of(api.delete(url, {}))["data"] is True
    assert assert_ok(api.get("/api/v1/agents")) == []


def test_sessions(api, other_api, agent, tenant) -> None:
    url = f"/api/v1/agents/{agent['id']}/sessions"
    session = assert_ok(api.post(url, {}))
    assert session["agent_id"] == agent["id"] and session["user_id"] == tenant.pk
    assert session["message"] == [{"role": "assistant", "content": "Hi, ask me about walruses."}]
    assert session["dsl"]["components"]
    (listed,) = assert_ok(api.get(url))
    assert listed["id"] == session["id"] and listed["messages"][0]["content"].startswith("Hi")
    assert "dsl" not in assert_ok(api.get(url, {"dsl": "False"}))[0]
    # Someone else's agent answers like a missing one.
    assert_error(other_api.post(url, {}), RetCode.DATA_ERROR, "Agent not found.")
    assert_error(other_api.get(url), RetCode.DATA_ERROR, f"You don't own the agent {agent['id']}.")
    assert_error(
        api.post("/api/v1/agents/ghost/sessions", {}), RetCode.DATA_ERROR, "Agent not found."
    )
    assert_error(
        api.delete(url, {"ids": ["ghost"]}),
        RetCode.DATA_ERROR,
        "The agent doesn't own the session ghost",
    )
    assert_ok(api.delete(url, {"ids": [session["id"]]}))
    assert_error(
        api.delete(url, {"ids": None}), RetCode.DATA_ERROR, f"Agent {agent['id']} has no sessions"
    )


def test_streamed_completion_uses_the_event_protocol(api, agent) -> None:
    session = assert_ok(api.post(f"/api/v1/agents/{agent['id']}/sessions", {}))
    response = api.post(
        f"/api/v1/agents/{agent['id']}/completions",
        {
            "question": "How many walruses were counted on Kolguev island?",
            "stream": True,
            "session_id": session["id"],
        },
    )
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    blocks = [b for b in collect(response).split("\n\n") if b]
    assert blocks[-1] == "data:[DONE]"
    events = [json.loads(b[len("data:") :]) for b in blocks[:-1]]
    messages = [e for e in events if e["event"] == "message"]
    assert len(messages) > 1 and "4312" in "".join(m["data"]["content"] for m in messages)
    end = events[-1]
    assert (
        end["event"] == "message_end"
        and end["task_id"] == agent["id"]
        and end["session_id"] == session["id"]
    )
    assert end["data"]["reference"]["chunks"]["0"]["content"].startswith("The walrus")
    stored = AgentSession.objects.get(pk=session["id"])
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]


def test_plain_completion_creates_a_session_when_none_is_given(api, agent) -> None:
    data = assert_ok(
        api.post(
            f"/api/v1/agents/{agent['id']}/completions",
            {"question": "How many walruses on Kolguev?", "stream": False},
        )
    )
    assert data["event"] == "message_end" and "4312" in data["data"]["content"]
    assert data["data"]["outputs"]["content"] == data["data"]["content"]
    assert AgentSession.objects.filter(pk=data["session_id"]).exists()


def test_completion_errors(api, other_api, agent) -> None:
    assert_error(
        other_api.post(f"/api/v1/agents/{agent['id']}/completions", {"question": "q"}),
        RetCode.DATA_ERROR,
        "Agent not found.",
    )
    assert_error(
        api.post(
            f"/api/v1/agents/{agent['id']}/completions", {"question": "q", "session_id": "ghost"}
        ),
        RetCode.DATA_ERROR,
        "Session not found!",
    )


def test_openai_compatible_agent_endpoint(api, agent) -> None:
    url = f"/api/v1/agents_openai/{agent['id']}/chat/completions"
    messages = [{"role": "user", "content": "How many walruses were counted on Kolguev island?"}]
    body = json.loads(api.post(url, {"model": "m", "messages": messages}).content)
    assert body["object"] == "chat.completion" and body["model"] == agent["id"]
    assert "4312" in body["choices"][0]["message"]["content"]
    streamed = collect(api.post(url, {"model": "m", "messages": messages, "stream": True}))
    blocks = [b for b in streamed.split("\n\n") if b]
    assert blocks[-1] == "data: [DONE]"
    text = "".join(
        json.loads(b[len("data: ") :])["choices"][0]["delta"].get("content") or ""
        for b in blocks[:-1]
    )
    assert "4312" in text
    assert_error(
        api.post(url, {"model": "m"}),
        RetCode.ARGUMENT_ERROR,
        "required argument are missing: messages; ",
    )
    assert_error(
        api.post(url, {"model": "m", "messages": []}),
        RetCode.DATA_ERROR,
        "You must provide at least one message.",
    )
