"""Someone else's assistant (or session) answers exactly like one that does not exist, on every
route, so the answers cannot tell anyone which ids are in use."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create
from ragsite.accounts.models import User
from ragsite.ids import new_id
from tests.conftest import ApiClient
from tests.probing import answer

pytestmark = pytest.mark.django_db

QUESTION = [{"role": "user", "content": "hello"}]


@pytest.fixture
def theirs(other_tenant: User) -> ChatSession:
    chat = chat_create(tenant=other_tenant, changes=ChatChanges(name="private"))
    return session_create(chat=chat, name="secret")


@pytest.fixture
def mine(tenant: User) -> Chat:
    return chat_create(tenant=tenant, changes=ChatChanges(name="mine"))


CHAT_CALLS = [
    ("put", "/api/v1/chats/{id}", {"name": "mine now"}),
    ("delete", "/api/v1/chats", {"ids": ["{id}"]}),
    ("post", "/api/v1/chats/{id}/sessions", {"name": "s"}),
    ("get", "/api/v1/chats/{id}/sessions", None),
    ("delete", "/api/v1/chats/{id}/sessions", {"ids": ["x"]}),
    ("put", "/api/v1/chats/{id}/sessions/x", {"name": "n"}),
    ("post", "/api/v1/chats/{id}/completions", {"question": "hello", "stream": False}),
    ("post", "/api/v1/chats/{id}/completions", {"question": "hello", "stream": True}),
    ("post", "/api/v1/chats_openai/{id}/chat/completions", {"model": "m", "messages": QUESTION}),
    # RAGFlow v0.27
    ("get", "/api/v1/chats/{id}", None),
    ("patch", "/api/v1/chats/{id}", {"name": "mine now"}),
    ("delete", "/api/v1/chats/{id}", None),
    ("delete", "/api/v1/chats", {"chat_id": "{id}"}),
    ("get", "/api/v1/chats/{id}/sessions/x", None),
    ("patch", "/api/v1/chats/{id}/sessions/x", {"name": "n"}),
    ("post", "/api/v1/chat/completions", {"chat_id": "{id}", "question": "hello", "stream": False}),
    ("post", "/api/v1/chat/completions", {"chat_id": "{id}", "question": "hello"}),
    ("post", "/api/v1/openai/{id}/chat/completions", {"model": "m", "messages": QUESTION}),
]


def _fill(value: Any, chat_id: str) -> Any:
    if isinstance(value, str):
        return value.format(id=chat_id)
    if isinstance(value, list):
        return [_fill(v, chat_id) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, chat_id) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body"), CHAT_CALLS)
def test_api_answers_the_same_for_a_foreign_and_a_missing_chat(
    api: ApiClient, theirs: ChatSession, method: str, path: str, body: Any
) -> None:
    def call(chat_id: str) -> tuple[int, str]:
        url = path.format(id=chat_id)
        if method == "get":
            return answer(api.get(url), chat_id)
        return answer(getattr(api, method)(url, _fill(body, chat_id)), chat_id)

    assert call(theirs.chat_id) == call(new_id())
    assert Chat.objects.get(pk=theirs.chat_id).name == "private"
    assert Chat.objects.get(pk=theirs.chat_id).status == "1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/api/v1/chats/{chat}/sessions/{session}", {"name": "n"}),
        ("patch", "/api/v1/chats/{chat}/sessions/{session}", {"name": "n"}),
        ("get", "/api/v1/chats/{chat}/sessions/{session}", None),
        (
            "post",
            "/api/v1/chat/completions",
            {"chat_id": "{chat}", "session_id": "{session}", "question": "hi", "stream": False},
        ),
        ("delete", "/api/v1/chats/{chat}/sessions", {"ids": ["{session}"]}),
        (
            "post",
            "/api/v1/chats/{chat}/completions",
            {"question": "hello", "stream": False, "session_id": "{session}"},
        ),
    ],
)
def test_api_answers_the_same_for_a_foreign_and_a_missing_session(
    api: ApiClient, mine: Chat, theirs: ChatSession, method: str, path: str, body: Any
) -> None:
    def call(session_id: str) -> tuple[int, str]:
        fill = {"chat": mine.pk, "session": session_id}
        url = path.format(**fill)
        if body is None:
            return answer(getattr(api, method)(url), session_id)
        sent = {k: v.format(**fill) if isinstance(v, str) else v for k, v in body.items()}
        if "ids" in sent:
            sent["ids"] = [session_id]
        return answer(getattr(api, method)(url, sent), session_id)

    assert call(theirs.pk) == call(new_id())
    assert ChatSession.objects.get(pk=theirs.pk).name == "secret"


def test_pages_answer_404_for_a_foreign_and_a_missing_chat(
    client: Client, tenant: User, mine: Chat, theirs: ChatSession
) -> None:
    client.force_login(tenant)
    for chat_id, session_id in [
        (theirs.chat_id, theirs.pk),
        (new_id(), new_id()),
        (mine.pk, theirs.pk),  # their session under my chat
    ]:
        for method, name, args in [
            ("get", "chat:chat_detail", [chat_id]),
            ("get", "chat:chat_settings", [chat_id]),
            ("post", "chat:chat_settings", [chat_id]),
            ("post", "chat:delete_chat", [chat_id]),
            ("post", "chat:create_session", [chat_id]),
            ("get", "chat:session_detail", [chat_id, session_id]),
            ("get", "chat:session_item", [chat_id, session_id]),
            ("post", "chat:rename_session", [chat_id, session_id]),
            ("post", "chat:delete_session", [chat_id, session_id]),
        ]:
            if chat_id == mine.pk and len(args) == 1:
                continue  # my own chat's pages are mine to see
            response = getattr(client, method)(reverse(name, args=args))
            assert response.status_code == 404, (name, chat_id, session_id)
    assert ChatSession.objects.get(pk=theirs.pk).name == "secret"
