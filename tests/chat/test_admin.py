"""Chat assistants and sessions in Django admin: listed with their owner, searchable, changed
only through the services, conversations read-only (issue 16)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-1"))
    return client


@pytest.fixture
def chat(tenant: User) -> Chat:
    return chat_create(tenant=tenant, changes=ChatChanges(name="Walrus helper"))


@pytest.fixture
def session(chat: Chat) -> ChatSession:
    session = session_create(chat=chat, name="Census questions")
    session.messages.append({"role": "user", "content": "How many <b>walruses</b>?"})
    session.save()
    return session


def url(model: str, action: str, *args: str) -> str:
    return reverse(f"admin:chat_{model}_{action}", args=args)


def test_chat_changelist_shows_the_owner_and_searches(root: Client, chat: Chat) -> None:
    chat_create(tenant=chat.tenant, changes=ChatChanges(name="Tern guide"))
    page = root.get(url("chat", "changelist"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Walrus helper" in body and "Tern guide" in body and "alice" in body

    found = root.get(url("chat", "changelist"), {"q": "walrus"}).content.decode()
    assert "Walrus helper" in found and "Tern guide" not in found
    by_owner = root.get(url("chat", "changelist"), {"q": "alice"}).content.decode()
    assert "Walrus helper" in by_owner and "Tern guide" in by_owner
    assert root.get(url("chat", "changelist"), {"status__exact": "1"}).status_code == 200


def test_chat_change_page_edits_through_the_service(root: Client, chat: Chat) -> None:
    assert root.get(url("chat", "change", chat.pk)).status_code == 200
    form = {
        "name": "Walrus expert",
        "description": "Knows walruses",
        "dataset_ids": "[]",
        "llm_id": chat.llm_id,
        "top_n": "4",
        "rerank_id": "",
    }
    response = root.post(url("chat", "change", chat.pk), form)
    assert response.status_code == 302, response.content[:2000]
    chat.refresh_from_db()
    assert (chat.name, chat.description, chat.top_n) == ("Walrus expert", "Knows walruses", 4)


def test_chat_change_refusals_come_from_the_service(root: Client, chat: Chat) -> None:
    form = {
        "name": "Walrus helper",
        "description": "",
        "dataset_ids": '["not-a-dataset"]',
        "llm_id": chat.llm_id,
        "top_n": "6",
        "rerank_id": "",
    }
    response = root.post(url("chat", "change", chat.pk), form)
    assert response.status_code == 200
    assert "You don&#x27;t own the dataset not-a-dataset" in response.content.decode()
    assert Chat.objects.get(pk=chat.pk).dataset_ids == []


def test_deleting_a_chat_in_admin_is_the_owners_soft_delete(root: Client, chat: Chat) -> None:
    response = root.post(url("chat", "delete", chat.pk), {"post": "yes"})
    assert response.status_code == 302
    assert Chat.objects.get(pk=chat.pk).status == "0"
    # A deleted chat can still be looked at, not changed.
    page = root.get(url("chat", "change", chat.pk))
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()


def test_session_pages_show_the_conversation_read_only(root: Client, session: ChatSession) -> None:
    listing = root.get(url("chatsession", "changelist"))
    assert listing.status_code == 200
    assert "Census questions" in listing.content.decode() and "alice" in listing.content.decode()
    found = root.get(url("chatsession", "changelist"), {"q": "Walrus helper"}).content.decode()
    assert "Census questions" in found
    missing = root.get(url("chatsession", "changelist"), {"q": "nobody"}).content.decode()
    assert "Census questions" not in missing

    page = root.get(url("chatsession", "change", session.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert "How many &lt;b&gt;walruses&lt;/b&gt;?" in body  # shown, escaped
    assert 'name="messages"' not in body  # and not editable


def test_renaming_a_session_in_admin_keeps_its_messages(root: Client, session: ChatSession) -> None:
    response = root.post(
        url("chatsession", "change", session.pk), {"name": "Renamed", "user_id": "u-1"}
    )
    assert response.status_code == 302, response.content[:2000]
    session.refresh_from_db()
    assert (session.name, session.user_id) == ("Renamed", "u-1")
    assert session.messages[-1]["content"] == "How many <b>walruses</b>?"

    blank = root.post(url("chatsession", "change", session.pk), {"name": " ", "user_id": "u-1"})
    assert blank.status_code == 200
    assert ChatSession.objects.get(pk=session.pk).name == "Renamed"


def test_chats_and_sessions_cannot_be_added_in_admin(root: Client) -> None:
    assert root.get(url("chat", "add")).status_code == 403
    assert root.get(url("chatsession", "add")).status_code == 403
