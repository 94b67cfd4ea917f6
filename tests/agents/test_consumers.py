"""The agent websocket: who may connect, and the delta → message_end → done stream it records."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from agents.models import Agent, AgentSession
from agents.routing import websocket_urlpatterns
from agents.services.agents import agent_create, session_create
from agents.templates_library import FaqEntry, component, dsl_of, faq_dsl, qa_dsl
from chat.llm.registry import BUILTIN_EXTRACTIVE
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
QUESTION = "How many walruses were counted on Kolguev island?"


def application() -> Any:
    from channels.routing import URLRouter

    # The app's routes without the auth middleware: the tests put the user in the scope.
    return URLRouter(websocket_urlpatterns)


@pytest.fixture
def agent(tenant: User) -> Agent:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    dsl = qa_dsl(dataset_ids=[dataset.pk], llm_id=BUILTIN_EXTRACTIVE, prologue="Ask me.")
    return agent_create(tenant=tenant, title="Walrus Q&A", dsl=dsl)


@pytest.fixture
def session(agent: Agent) -> AgentSession:
    return session_create(agent=agent, user_id=str(agent.tenant_id))


def communicator(user: Any, agent_id: str, session_id: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application(), f"/ws/agents/{agent_id}/sessions/{session_id}/")
    socket.scope["user"] = user
    return socket


async def ask(socket: WebsocketCommunicator, question: Any) -> list[dict[str, Any]]:
    """Send one question; collect messages up to and including "done"."""
    await socket.send_json_to({"question": question} if isinstance(question, str) else question)
    received = []
    while True:
        message = await socket.receive_json_from(timeout=60)
        received.append(message)
        if message["type"] == "done":
            return received


async def close_code(socket: WebsocketCommunicator) -> int:
    connected, _subprotocol = await socket.connect()
    assert connected  # accepted first, so that browsers see the close code
    message = await socket.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await socket.wait()
    return int(message["code"])


def conversation(user: User, agent_id: str, session_id: str, *questions: Any) -> list[list[dict]]:
    """Each question's messages, asked one after the other on one connection."""

    async def run() -> list[list[dict[str, Any]]]:
        socket = communicator(user, agent_id, session_id)
        connected, _ = await socket.connect()
        assert connected
        answers = [await ask(socket, question) for question in questions]
        await socket.disconnect()
        return answers

    return async_to_sync(run)()


def test_agent_socket_streams_deltas_then_the_reference_then_done(
    tenant: User, agent: Agent, session: AgentSession
) -> None:
    (received,) = conversation(tenant, agent.pk, session.pk, QUESTION)

    *deltas, end, done = received
    assert done["type"] == "done"
    assert end["type"] == "message_end"
    assert len(deltas) > 1 and all(m["type"] == "delta" for m in deltas)
    answer = "".join(m["content"] for m in deltas)
    assert "4312" in answer and "[ID:0]" in answer
    chunk = end["reference"]["chunks"]["0"]
    assert chunk["content"] == WALRUS and chunk["document_name"] == "walrus.txt"
    assert chunk["document_id"] and chunk["dataset_id"]

    # Recorded before "done" was sent, so a reload right after shows it.
    stored = AgentSession.objects.get(pk=session.pk)
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]
    assert stored.messages[0]["content"] == "Ask me."
    assert stored.messages[1]["content"] == QUESTION
    assert stored.messages[2]["content"] == answer
    assert stored.references == [end["reference"]]

    # "done" brings the reply as a reload shows it: Markdown rendered, the marker a button.
    html = done["html"]
    assert html.startswith('<li id="message-live-') and "4312" in html
    assert '<div class="message__text md">' in html and "[ID:" not in html
    assert 'aria-label="Source 1" data-cite="1">①</button>' in html
    assert "walrus.txt" in html and WALRUS in html


def test_agent_socket_answers_several_questions_on_one_connection(
    tenant: User, agent: Agent, session: AgentSession
) -> None:
    first, second = conversation(
        tenant, agent.pk, session.pk, QUESTION, "When was the walrus colony counted?"
    )
    assert first[-1]["type"] == second[-1]["type"] == "done"
    assert "2019" in "".join(m.get("content", "") for m in second)
    assert len(AgentSession.objects.get(pk=session.pk).messages) == 5


def test_a_failing_component_is_named_and_the_session_stays_usable(tenant: User) -> None:
    # "break" routes to an LLM whose model does not exist; anything else gets a fixed reply.
    dsl = faq_dsl(
        entries=[FaqEntry(keywords=["break"], answer="{LLM:Broken@content}")],
        default_answer="All good.",
        prologue="",
    )
    components = dsl["components"]
    (target,) = components["Switch:Keywords"]["obj"]["params"]["conditions"][0]["to"]
    components["Switch:Keywords"]["downstream"][0] = "LLM:Broken"
    components["Switch:Keywords"]["obj"]["params"]["conditions"][0]["to"] = ["LLM:Broken"]
    components["LLM:Broken"] = component(
        "LLM", {"llm_id": "missing@Nowhere"}, downstream=[target], upstream=["Switch:Keywords"]
    )
    components[target]["upstream"] = ["LLM:Broken"]
    agent = agent_create(tenant=tenant, title="Fragile", dsl=dsl_of(components))
    session = session_create(agent=agent, user_id="u")

    failed, fine = conversation(tenant, agent.pk, session.pk, "break it", "hello")

    assert [m["type"] for m in failed] == ["error", "done"]
    assert failed[0]["message"].startswith("Component 'LLM:Broken' failed:")
    assert "missing@Nowhere" in failed[0]["message"]
    assert "message--error" in failed[1]["html"] and "LLM:Broken" in failed[1]["html"]
    *streamed, done = fine
    assert streamed == [
        {"type": "delta", "content": "All good.", "html": "<p>All good.</p>"},
        {"type": "message_end", "reference": None},
    ]
    assert done["type"] == "done" and "<p>All good.</p>" in done["html"]
    stored = AgentSession.objects.get(pk=session.pk)
    assert "**ERROR**: Component 'LLM:Broken' failed" in stored.messages[1]["content"]
    assert stored.messages[3]["content"] == "All good."
    assert "LLM:Broken" in stored.errors


def test_agent_socket_refuses_bad_questions_and_goes_on(
    tenant: User, agent: Agent, session: AgentSession
) -> None:
    blank, too_long, not_text = conversation(
        tenant, agent.pk, session.pk, "   ", "x" * 8001, {"question": 42}
    )
    assert blank == [{"type": "error", "message": "Type a question first."}, {"type": "done"}]
    assert too_long[0]["message"].startswith("The question is too long")
    assert not_text[0]["type"] == "error"
    assert len(AgentSession.objects.get(pk=session.pk).messages) == 1  # the prologue only


def test_agent_socket_refuses_anonymous_users_with_4401(
    agent: Agent, session: AgentSession
) -> None:
    code = async_to_sync(close_code)(communicator(AnonymousUser(), agent.pk, session.pk))
    assert code == 4401


def test_agent_socket_refuses_another_users_session_with_4404(
    agent: Agent, session: AgentSession, other_tenant: User
) -> None:
    code = async_to_sync(close_code)(communicator(other_tenant, agent.pk, session.pk))
    assert code == 4404


def test_agent_socket_refuses_a_session_of_another_agent_with_4404(
    tenant: User, agent: Agent, session: AgentSession
) -> None:
    other = agent_create(tenant=tenant, title="Other", dsl=agent.dsl)
    code = async_to_sync(close_code)(communicator(tenant, other.pk, session.pk))
    assert code == 4404
    code = async_to_sync(close_code)(communicator(tenant, agent.pk, "0" * 32))
    assert code == 4404
