"""Agent sessions in both RAGFlow generations (contract v0.27 §2.9, R4, G5, G8): creating one
(body user_id/name, `message` and `messages`), listing with `total` and the v0.27 filters,
getting and deleting one, and bulk deletes with and without `delete_all`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agents.models import Agent, AgentSession
from agents.services.agents import agent_create, session_create, session_record_turn
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.ids import new_id
from tests.agents.api.dsls import echo_dsl
from tests.conftest import ApiClient
from tests.helpers import assert_error, assert_ok, body_of

pytestmark = pytest.mark.django_db

PROLOGUE = [{"role": "assistant", "content": "Hi, say something."}]


@pytest.fixture
def agent(tenant: User) -> Agent:
    return agent_create(tenant=tenant, title="echo", dsl=echo_dsl())


@pytest.fixture
def other_agent(tenant: User) -> Agent:
    return agent_create(tenant=tenant, title="other", dsl=echo_dsl())


def url(agent_id: str, session_id: str | None = None) -> str:
    base = f"/api/v1/agents/{agent_id}/sessions"
    return base if session_id is None else f"{base}/{session_id}"


def answered(session: AgentSession, question: str) -> None:
    session_record_turn(
        session_id=session.pk,
        question=question,
        answer=f"You said: {question}",
        reference={"chunks": {"0": {"id": "c1", "content": "cited", "document_id": "d"}}},
        message_id=new_id(),
        seconds=0.1,
        error=None,
    )


# --- POST -------------------------------------------------------------------------------------


def test_create_emits_message_and_messages(api: ApiClient, api22: ApiClient, agent, tenant) -> None:
    for client in (api, api22):
        data = assert_ok(client.post(url(agent.pk), {}))
        assert data["message"] == data["messages"] == PROLOGUE
        assert data["agent_id"] == agent.pk and data["source"] == "agent"
        assert data["user_id"] == data["exp_user_id"] == tenant.pk and data["name"] == ""
        assert data["dsl"]["components"]["Message:Echo"] and "version_title" in data


def test_create_reads_user_id_and_name_from_the_body(api: ApiClient, agent) -> None:
    data = assert_ok(api.post(url(agent.pk), {"user_id": "end-user-7", "name": "Support chat"}))
    stored = AgentSession.objects.get(pk=data["id"])
    assert stored.user_id == data["user_id"] == "end-user-7"
    assert stored.name == data["name"] == "Support chat"
    # The query parameter of v0.22 still works; the body wins when both are sent.
    by_query = assert_ok(api.post(f"{url(agent.pk)}?user_id=q-user", {}))
    assert by_query["user_id"] == "q-user"
    both = api.post(f"{url(agent.pk)}?user_id=q-user", {"user_id": "b-user"})
    assert assert_ok(both)["user_id"] == "b-user"


def test_other_body_keys_are_begin_inputs(api: ApiClient, agent) -> None:
    data = assert_ok(api.post(url(agent.pk), {"name": "n", "lang": {"value": "fr"}}))
    stored = AgentSession.objects.get(pk=data["id"])
    assert stored.dsl["session_inputs"] == {"lang": {"value": "fr"}}


def test_create_refusals(api: ApiClient, api22: ApiClient, other_api: ApiClient, agent) -> None:
    assert_error(api.post(url(agent.pk), {"name": ["x"]}), RetCode.ARGUMENT_ERROR, "`name`")
    assert_error(
        api.post(url(agent.pk), {"user_id": "u" * 256}), RetCode.ARGUMENT_ERROR, "too long"
    )
    new = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Make sure you have permission to access the agent.",
        "data": False,
    }
    assert body_of(other_api.post(url(agent.pk), {})) == new
    assert body_of(other_api.post(url(new_id()), {})) == new
    assert_error(api22.post(url(new_id()), {}), RetCode.DATA_ERROR, "Agent not found.")
    assert AgentSession.objects.count() == 0


# --- GET list ---------------------------------------------------------------------------------


def test_list_has_total_and_both_message_keys(api: ApiClient, api22: ApiClient, agent) -> None:
    first = session_create(agent=agent, user_id="u1", name="first")
    answered(first, "walrus")
    session_create(agent=agent, user_id="u2", name="second")
    for client in (api, api22):
        body = body_of(client.get(url(agent.pk)))
        assert body["code"] == 0 and body["total"] == 2 and len(body["data"]) == 2
        item = next(s for s in body["data"] if s["id"] == first.pk)
        assert item["messages"] == item["message"] and item["name"] == "first"
        assert [m["role"] for m in item["messages"]] == ["assistant", "user", "assistant"]
        assert item["messages"][2]["reference"][0]["content"] == "cited"
        assert item["agent_id"] == agent.pk and item["dsl"]["components"]
    paged = body_of(api.get(url(agent.pk), {"page_size": 1}))
    assert len(paged["data"]) == 1 and paged["total"] == 2
    # G8: page_size=0 is 30 in v0.27, nothing in v0.22.
    assert len(assert_ok(api.get(url(agent.pk), {"page_size": 0}))) == 2
    assert assert_ok(api22.get(url(agent.pk), {"page_size": 0})) == []


def test_list_filters(api: ApiClient, agent) -> None:
    old = session_create(agent=agent, user_id="u1", name="Walrus questions")
    AgentSession.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    new = session_create(agent=agent, user_id="u2", name="other")
    answered(new, "lighthouse fog")

    def ids(**params: Any) -> set[str]:
        return {s["id"] for s in assert_ok(api.get(url(agent.pk), params))}

    assert ids(keywords="walrus") == {old.pk}  # the name
    assert ids(keywords="FOG") == {new.pk}  # a message
    assert ids(exp_user_id="u2") == {new.pk} and ids(user_id="u1") == {old.pk}
    today = timezone.localdate()
    assert ids(from_date=str(today)) == {new.pk}
    assert ids(to_date=str(today - timedelta(days=1))) == {old.pk}
    assert ids(to_date=str(today)) == {old.pk, new.pk}
    assert ids(id=old.pk) == {old.pk}
    assert_error(api.get(url(agent.pk), {"from_date": "soon"}), RetCode.ARGUMENT_ERROR, "from_date")
    assert "dsl" not in assert_ok(api.get(url(agent.pk), {"dsl": "False"}))[0]


def test_list_refusals(
    api22: ApiClient, other_api: ApiClient, other_api22: ApiClient, agent
) -> None:
    for agent_id in (agent.pk, new_id()):
        assert_error(
            other_api22.get(url(agent_id)),
            RetCode.DATA_ERROR,
            f"You don't own the agent {agent_id}.",
        )
        assert body_of(other_api.get(url(agent_id)))["code"] == RetCode.OPERATING_ERROR


# --- GET / DELETE one -------------------------------------------------------------------------


def test_get_one_session(api: ApiClient, api22: ApiClient, agent, other_agent) -> None:
    session = session_create(agent=agent, user_id="u1", name="one")
    answered(session, "walrus")
    for client in (api, api22):
        body = body_of(client.get(url(agent.pk, session.pk)))
        assert body["code"] == 0 and body["message"] == "success"
        data = body["data"]
        assert data["id"] == session.pk and data["dialog_id"] == data["agent_id"] == agent.pk
        assert data["message"] == data["messages"] and len(data["message"]) == 3
        assert data["reference"][0]["chunks"]["0"]["content"] == "cited"
        assert data["dsl"]["components"] and data["name"] == "one" and data["user_id"] == "u1"
    not_found = {"code": RetCode.DATA_ERROR, "message": "Session not found!"}
    assert body_of(api.get(url(agent.pk, new_id()))) == not_found
    assert body_of(api.get(url(other_agent.pk, session.pk))) == not_found


def test_get_one_of_someone_elses_agent(other_api: ApiClient, agent) -> None:
    session = session_create(agent=agent, user_id="u1")
    for agent_id in (agent.pk, new_id()):
        assert body_of(other_api.get(url(agent_id, session.pk))) == {
            "code": RetCode.OPERATING_ERROR,
            "message": "Make sure you have permission to access the agent.",
            "data": False,
        }


def test_delete_one_session(api: ApiClient, other_api: ApiClient, agent, other_agent) -> None:
    session = session_create(agent=agent, user_id="u1")
    kept = session_create(agent=agent, user_id="u1")
    not_found = {"code": RetCode.DATA_ERROR, "message": "Session not found!"}
    assert body_of(api.delete(url(other_agent.pk, session.pk))) == not_found
    assert body_of(other_api.delete(url(agent.pk, session.pk)))["code"] == RetCode.OPERATING_ERROR
    assert body_of(api.delete(url(agent.pk, session.pk))) == {
        "code": 0,
        "message": "success",
        "data": 1,
    }
    assert body_of(api.get(url(agent.pk, session.pk))) == not_found
    assert body_of(api.delete(url(agent.pk, session.pk))) == not_found
    assert list(AgentSession.objects.values_list("pk", flat=True)) == [kept.pk]


# --- bulk DELETE (G5) -------------------------------------------------------------------------


def three(agent: Agent) -> list[str]:
    return [session_create(agent=agent, user_id="u").pk for _ in range(3)]


def remaining(agent: Agent) -> int:
    return AgentSession.objects.filter(agent_key=agent.pk).count()


def test_delete_all_only_when_asked(api: ApiClient, api22: ApiClient, agent) -> None:
    three(agent)
    for client in (api, api22):
        for body in ({}, {"ids": []}, {"ids": None, "delete_all": False}, {"delete_all": False}):
            assert_ok(client.delete(url(agent.pk), body))
            assert remaining(agent) == 3
    # G5: `ids: null` without `delete_all` wipes in v0.22 only (ragflow-sdk 0.27.3's bare
    # Agent.delete_sessions() sends exactly that and means nothing).
    assert_ok(api.delete(url(agent.pk), {"ids": None}))
    assert remaining(agent) == 3
    assert_ok(api22.delete(url(agent.pk), {"ids": None}))
    assert remaining(agent) == 0
    three(agent)
    assert_ok(api.delete(url(agent.pk), {"ids": None, "delete_all": True}))
    assert remaining(agent) == 0
    three(agent)
    assert_ok(api22.delete(url(agent.pk), {"delete_all": True}))  # the key means v0.27 rules
    assert remaining(agent) == 0


def test_delete_named_sessions(api: ApiClient, agent, other_agent) -> None:
    ids = three(agent)
    foreign = session_create(agent=other_agent, user_id="u").pk
    body = body_of(api.delete(url(agent.pk), {"ids": [ids[0], ids[0], foreign]}))
    assert body["code"] == 0 and body["data"]["success_count"] == 1
    assert body["data"]["errors"] == [
        f"Duplicate session ids: {ids[0]}",
        f"The agent doesn't own the session {foreign}",
    ]
    assert_error(
        api.delete(url(agent.pk), {"ids": [foreign]}),
        RetCode.DATA_ERROR,
        f"The agent doesn't own the session {foreign}",
    )
    assert_ok(api.delete(url(agent.pk), {"ids": ids[1:], "delete_all": False}))
    assert remaining(agent) == 0 and remaining(other_agent) == 1
    assert_error(
        api.delete(url(agent.pk), {"ids": [foreign], "delete_all": True}),
        RetCode.ARGUMENT_ERROR,
    )


def test_an_agent_without_sessions(api: ApiClient, api22: ApiClient, agent) -> None:
    assert_error(
        api22.delete(url(agent.pk), {"ids": None}),
        RetCode.DATA_ERROR,
        f"Agent {agent.pk} has no sessions",
    )
    # v0.27: deleting all of none is a success.
    assert_ok(api.delete(url(agent.pk), {"delete_all": True}))
    assert_ok(api22.delete(url(agent.pk), {"delete_all": True}))


def test_bulk_delete_on_someone_elses_agent(
    other_api: ApiClient, other_api22: ApiClient, agent
) -> None:
    three(agent)
    for client in (other_api, other_api22):
        for agent_id in (agent.pk, new_id()):
            assert body_of(client.delete(url(agent_id), {"delete_all": True})) == {
                "code": RetCode.DATA_ERROR,
                "message": f"You don't own the agent {agent_id}",
            }
    assert remaining(agent) == 3
