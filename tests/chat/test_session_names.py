"""Chat sessions are named after their first question unless somebody named them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import translation

from chat.models import Chat, ChatSession
from chat.routing import websocket_urlpatterns
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import SessionChanges, default_names, session_create, session_update
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.helpers import assert_ok

QUESTION = "How many walruses were counted on Kolguev island?"
LONG = "Where exactly " + "and when " * 20 + "were the walruses counted?"


@pytest.fixture
def chat(tenant: User) -> Chat:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content="The walrus colony on Kolguev was 4312 animals.")
    return chat_create(tenant=tenant, changes=ChatChanges(name="x", dataset_ids=[dataset.pk]))


def _socket_ask(user: User, chat: Chat, session: ChatSession, question: str) -> None:
    async def run() -> None:
        socket = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/chat/{chat.pk}/sessions/{session.pk}/"
        )
        socket.scope["user"] = user
        connected, _ = await socket.connect()
        assert connected
        await socket.send_json_to({"question": question})
        while (await socket.receive_json_from(timeout=60))["type"] not in ("final", "error"):
            pass
        await socket.disconnect()

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_the_page_s_new_session_is_named_after_its_first_question(tenant: User, chat: Chat) -> None:
    # The chat page creates sessions with the translated default name.
    with translation.override("zh-hans"):
        session = session_create(chat=chat, name=translation.gettext("New session"))
    assert session.name == "新建会话"
    _socket_ask(tenant, chat, session, "  How many   walruses\nwere counted?  ")
    session.refresh_from_db()
    assert session.name == "How many walruses were counted?"
    _socket_ask(tenant, chat, session, "And seals?")
    session.refresh_from_db()
    assert session.name == "How many walruses were counted?"  # the first question only


@pytest.mark.django_db(transaction=True)
def test_a_session_somebody_named_keeps_its_name(tenant: User, chat: Chat) -> None:
    session = session_create(chat=chat, name="Walrus research")
    _socket_ask(tenant, chat, session, QUESTION)
    session.refresh_from_db()
    assert session.name == "Walrus research"
    renamed = session_create(chat=chat)
    session_update(chat=chat, session_id=renamed.pk, changes=SessionChanges(name="Mine"))
    _socket_ask(tenant, chat, renamed, QUESTION)
    renamed.refresh_from_db()
    assert renamed.name == "Mine"


def test_the_default_names_are_new_session_in_every_language() -> None:
    assert default_names() == {"New session", "新建会话"}


def _api_chat(client) -> dict[str, Any]:
    """A chat over a dataset with one chunk, made through the API."""
    dataset = assert_ok(client.post("/api/v1/datasets", {"name": "kb"}))
    part = io.BytesIO(b"x")
    part.name = "walrus.txt"
    (doc,) = assert_ok(
        client.client.post(
            f"/api/v1/datasets/{dataset['id']}/documents", {"file": [part]}, headers=client.headers
        )
    )
    assert_ok(
        client.post(
            f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks",
            {"content": "The walrus colony on Kolguev was 4312 animals."},
        )
    )
    return assert_ok(client.post("/api/v1/chats", {"name": "c", "dataset_ids": [dataset["id"]]}))


def test_api_sessions_are_named_after_their_first_question(api22) -> None:
    chat = _api_chat(api22)
    url = f"/api/v1/chats/{chat['id']}"
    # A session created without a name, then asked.
    session = assert_ok(api22.post(f"{url}/sessions", {}))
    assert session["name"] == "New session"
    assert_ok(
        api22.post(
            f"{url}/completions", {"question": LONG, "session_id": session["id"], "stream": False}
        )
    )
    (listed,) = assert_ok(api22.get(f"{url}/sessions", {"id": session["id"]}))
    assert listed["name"].startswith("Where exactly and when") and listed["name"].endswith("…")
    assert len(listed["name"]) <= 60
    # A session the caller named is not renamed.
    named = assert_ok(api22.post(f"{url}/sessions", {"name": "kept"}))
    assert_ok(
        api22.post(
            f"{url}/completions", {"question": QUESTION, "session_id": named["id"], "stream": False}
        )
    )
    (listed,) = assert_ok(api22.get(f"{url}/sessions", {"id": named["id"]}))
    assert listed["name"] == "kept"


def test_a_session_the_unified_completion_creates_is_named_after_the_question(api) -> None:
    chat = _api_chat(api)
    data = assert_ok(
        api.post(
            "/api/v1/chat/completions",
            {
                "chat_id": chat["id"],
                "messages": [{"role": "user", "content": QUESTION}],
                "stream": False,
            },
        )
    )
    session = ChatSession.objects.get(pk=data["session_id"])
    assert session.name == QUESTION
