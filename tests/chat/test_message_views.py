"""The chat page's answer extras: feedback, delete, related questions and the mind map."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import new_message_id, session_create, session_record_turn
from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

QUESTION = "How are walruses counted on Kolguev island?"


@pytest.fixture
def handbook(tenant: User) -> Dataset:
    dataset = dataset_create(tenant=tenant, name="handbook")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.md", type="doc", suffix="md"
    )
    chunk_add(
        document=document,
        content="Walruses > Counting\nThe walrus colony on Kolguev island was counted at 4312 "
        "animals in 2019.",
        questions=["How are walruses counted from the air?"],
    )
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def chat(tenant: User, handbook: Dataset) -> Chat:
    return chat_create(tenant=tenant, changes=ChatChanges(name="c", dataset_ids=[handbook.pk]))


@pytest.fixture
def session(chat: Chat) -> tuple[ChatSession, list[str]]:
    session = session_create(chat=chat)
    ids = []
    for number in range(2):
        ids.append(new_message_id())
        session_record_turn(
            session_id=session.pk,
            question=f"{QUESTION} ({number})",
            answer=f"4312 walruses ({number})",
            reference={"chunks": []},
            message_id=ids[-1],
        )
    return session, ids


@pytest.fixture
def client_of(tenant: User) -> Client:
    client = Client()
    client.force_login(tenant)
    return client


def base(chat: Chat, session: ChatSession) -> str:
    return f"/chats/{chat.pk}/sessions/{session.pk}"


def test_the_page_offers_feedback_delete_and_related_for_the_last_answer(
    client_of: Client, chat: Chat, session
) -> None:
    stored, ids = session
    html = client_of.get(f"{base(chat, stored)}/").content.decode()
    assert html.count('class="answer-extras"') == 2
    assert html.count('class="related"') == 1
    assert f"/messages/{ids[1]}/feedback/" in html and f"/messages/{ids[0]}/delete/" in html
    assert "/related/?question=" in html


def test_feedback_is_stored_and_shown(client_of: Client, chat: Chat, session) -> None:
    stored, ids = session
    url = f"{base(chat, stored)}/messages/{ids[0]}/feedback/"
    response = client_of.post(
        url, {"thumbup": "0", "feedback": "Wrong year"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Marked as not helpful." in html
    assert "Wrong year" in html and 'data-pressed="true"' in html
    stored.refresh_from_db()
    assert stored.messages[2]["thumbup"] is False and stored.messages[2]["feedback"] == "Wrong year"
    response = client_of.post(url, {"thumbup": "1"})  # without JavaScript: back to the page
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.messages[2]["thumbup"] is True and "feedback" not in stored.messages[2]
    page = client_of.get(f"{base(chat, stored)}/").content.decode()
    assert re.findall(r'feedback__up" aria-pressed="(\w+)"', page) == ["true", "false"]
    assert "Marked as helpful." in page
    assert client_of.post(url, {"thumbup": "maybe"}).status_code == 400


def test_delete_removes_the_pair_and_returns_the_conversation(
    client_of: Client, chat: Chat, session
) -> None:
    stored, ids = session
    response = client_of.post(
        f"{base(chat, stored)}/messages/{ids[0]}/delete/", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "(0)" not in html and "4312 walruses (1)" in html
    stored.refresh_from_db()
    assert len(stored.messages) == 3 and stored.messages[1]["id"] == ids[1]


def test_related_questions_and_the_mind_map_come_from_the_knowledge_base(
    client_of: Client, chat: Chat, session
) -> None:
    stored, _ = session
    html = client_of.get(f"{base(chat, stored)}/related/", {"question": QUESTION}).content.decode()
    assert 'data-ask="How are walruses counted from the air?"' in html
    assert "Counting" in html
    tree = client_of.get(f"{base(chat, stored)}/mindmap/", {"question": QUESTION}).content.decode()
    assert "walrus.md" in tree and "Counting" in tree and "4312 animals" in tree


def test_a_chat_without_knowledge_bases_suggests_nothing(client_of: Client, tenant: User) -> None:
    bare = chat_create(tenant=tenant, changes=ChatChanges(name="bare"))
    stored = session_create(chat=bare)
    assert client_of.get(f"{base(bare, stored)}/related/", {"question": "q"}).content == b""
    tree = client_of.get(f"{base(bare, stored)}/mindmap/", {"question": "q"}).content.decode()
    assert "no knowledge bases" in tree


def test_another_users_session_is_not_found(chat: Chat, session, other_tenant: User) -> None:
    stored, ids = session
    client = Client()
    client.force_login(other_tenant)
    url = base(chat, stored)
    assert client.post(f"{url}/messages/{ids[0]}/feedback/", {"thumbup": "1"}).status_code == 404
    assert client.post(f"{url}/messages/{ids[0]}/delete/").status_code == 404
    assert client.get(f"{url}/related/", {"question": QUESTION}).status_code == 404
    assert client.get(f"{url}/mindmap/", {"question": QUESTION}).status_code == 404
    stored.refresh_from_db()
    assert len(stored.messages) == 5 and "thumbup" not in stored.messages[2]
