"""The chat websocket: who may connect, and the delta → final stream recorded in the session."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from chat.models import Chat, ChatSession
from chat.routing import websocket_urlpatterns
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
QUESTION = "How many walruses were counted on Kolguev island?"


def application() -> Any:
    from channels.routing import URLRouter

    # The project's routes without the auth middleware: the tests put the user in the scope.
    return URLRouter(websocket_urlpatterns)


@pytest.fixture
def chat(tenant: User) -> Chat:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    return chat_create(tenant=tenant, changes=ChatChanges(name="x", dataset_ids=[dataset.pk]))


@pytest.fixture
def session(chat: Chat) -> ChatSession:
    return session_create(chat=chat, name="walruses")


def communicator(user: Any, chat_id: str, session_id: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application(), f"/ws/chat/{chat_id}/sessions/{session_id}/")
    socket.scope["user"] = user
    return socket


async def ask(socket: WebsocketCommunicator, question: Any) -> list[dict[str, Any]]:
    """Send one question; collect messages up to and including the final (or error) one."""
    await socket.send_json_to({"question": question} if isinstance(question, str) else question)
    received = []
    while True:
        message = await socket.receive_json_from(timeout=60)
        received.append(message)
        if message["type"] in ("final", "error"):
            return received


async def close_code(socket: WebsocketCommunicator) -> int:
    connected, _subprotocol = await socket.connect()
    assert connected  # accepted first, so that browsers see the close code
    message = await socket.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await socket.wait()
    return int(message["code"])


def test_chat_socket_streams_deltas_then_final_and_records_the_turn(
    tenant: User, chat: Chat, session: ChatSession
) -> None:
    async def run() -> list[dict[str, Any]]:
        socket = communicator(tenant, chat.pk, session.pk)
        connected, _ = await socket.connect()
        assert connected
        received = await ask(socket, QUESTION)
        await socket.disconnect()
        return received

    received = async_to_sync(run)()

    *deltas, final = received
    assert final["type"] == "final"
    assert deltas and all(m["type"] == "delta" for m in deltas)
    # Deltas: appended in order, they are the model's answer (the final one adds citations).
    assert all(m["content"] for m in deltas)
    assert "".join(m["content"] for m in deltas).startswith("The walrus colony")
    # The first delta also brings the answer so far rendered (later ones now and then).
    rendered = [m["html"] for m in deltas if "html" in m]
    assert rendered[0] == f"<p>{deltas[0]['content'].strip()}</p>"
    assert all(h.startswith("<p>The") and "[ID:" not in h for h in rendered)
    assert "4312" in final["answer"] and "[ID:0]" in final["answer"]
    chunk = final["reference"]["chunks"][0]
    assert chunk["content"] == WALRUS and chunk["document_name"] == "walrus.txt"
    assert chunk["document_id"] and chunk["dataset_id"]

    # Recorded before "final" was sent, so a reload right after shows it.
    stored = ChatSession.objects.get(pk=session.pk)
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]
    assert stored.messages[1]["content"] == QUESTION
    assert stored.messages[2]["content"] == final["answer"]
    assert stored.references[0]["chunks"][0]["content"] == WALRUS

    # The final message brings the answer as a reload shows it: Markdown rendered, the marker
    # a button numbered ①, the passage and its document below.
    html = final["html"]
    assert html.startswith('<li id="message-live-') and "4312" in html
    assert '<div class="message__text md">' in html and "[ID:" not in html
    assert 'aria-label="Source 1" data-cite="1">①</button>' in html
    assert "walrus.txt" in html and WALRUS in html
    assert final["session_name"] == stored.name  # the page's sidebar follows it


def test_chat_socket_answers_several_questions_on_one_connection(
    tenant: User, chat: Chat, session: ChatSession
) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        socket = communicator(tenant, chat.pk, session.pk)
        await socket.connect()
        first = await ask(socket, QUESTION)
        second = await ask(socket, "When was the walrus colony counted?")
        await socket.disconnect()
        return first, second

    first, second = async_to_sync(run)()
    assert first[-1]["type"] == second[-1]["type"] == "final"
    assert "2019" in second[-1]["answer"]
    assert len(ChatSession.objects.get(pk=session.pk).messages) == 5


def test_chat_socket_refuses_anonymous_users_with_4401(chat: Chat, session: ChatSession) -> None:
    code = async_to_sync(close_code)(communicator(AnonymousUser(), chat.pk, session.pk))
    assert code == 4401


def test_chat_socket_refuses_another_users_session_with_4404(
    chat: Chat, session: ChatSession, other_tenant: User
) -> None:
    code = async_to_sync(close_code)(communicator(other_tenant, chat.pk, session.pk))
    assert code == 4404


def test_chat_socket_refuses_a_session_of_another_chat_with_4404(
    tenant: User, chat: Chat, session: ChatSession
) -> None:
    other = chat_create(tenant=tenant, changes=ChatChanges(name="other"))
    code = async_to_sync(close_code)(communicator(tenant, other.pk, session.pk))
    assert code == 4404


def test_chat_socket_reports_bad_questions_as_errors(
    tenant: User, chat: Chat, session: ChatSession
) -> None:
    async def run() -> list[dict[str, Any]]:
        socket = communicator(tenant, chat.pk, session.pk)
        await socket.connect()
        errors = [
            (await ask(socket, "   "))[-1],
            (await ask(socket, {"no": "question"}))[-1],
        ]
        await socket.send_to(text_data="not json")
        errors.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return errors

    errors = async_to_sync(run)()
    assert [e["type"] for e in errors] == ["error"] * 3
    assert errors[0]["message"] == "Type a question first."
    assert len(ChatSession.objects.get(pk=session.pk).messages) == 1


def test_chat_socket_sends_errors_of_the_answer_as_an_error_message(
    tenant: User, chat: Chat, session: ChatSession
) -> None:
    Chat.objects.filter(pk=chat.pk).update(llm_id="gpt-x@Nowhere")  # a provider since removed

    async def run() -> list[dict[str, Any]]:
        socket = communicator(tenant, chat.pk, session.pk)
        await socket.connect()
        received = await ask(socket, QUESTION)
        await socket.disconnect()
        return received

    (error,) = async_to_sync(run)()
    assert error["type"] == "error" and "gpt-x@Nowhere" in error["message"]
    # The failed turn is recorded as such, like the SSE endpoint does.
    stored = ChatSession.objects.get(pk=session.pk)
    assert stored.messages[-1]["content"].startswith("**ERROR**: ")


def test_chat_socket_is_routed_in_the_project() -> None:
    from ragsite.routing import websocket_urlpatterns as project_routes

    assert any(getattr(route, "name", "") == "chat_socket" for route in project_routes)
