"""The Memory page (server-rendered, HTMX): list, create, settings, search, message actions, and
another user's memory answering 404."""

from __future__ import annotations

import pytest
from django.test import Client

from agents.models import Memory, MemoryMessage
from agents.services.memories import NewMessage, memory_create, message_add
from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db

MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
EXTRACTIVE = "ragsite-extractive@Builtin"


@pytest.fixture
def web(tenant: User) -> Client:
    client = Client()
    client.force_login(tenant)
    return client


def new_memory(user: User, name: str = "facts") -> Memory:
    return memory_create(
        tenant=user, name=name, memory_type=["raw", "semantic"], embd_id=MINILM, llm_id=EXTRACTIVE
    )


def test_create_from_the_list_page(web: Client, tenant: User) -> None:
    page = web.get("/memory/")
    assert page.status_code == 200 and "No memories yet" in page.content.decode()
    response = web.post(
        "/memory/",
        {
            "name": "Trip notes",
            "memory_type": ["raw", "episodic"],
            "embd_id": MINILM,
            "llm_id": EXTRACTIVE,
            "permissions": "me",
            "memory_size": 4096,
            "temperature": 0.3,
        },
    )
    memory = Memory.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/memory/{memory.pk}/"
    assert memory.tenant == tenant and memory.type_names == ["raw", "episodic"]
    bad = web.post("/memory/", {"name": "", "memory_type": [], "embd_id": MINILM})
    assert bad.status_code == 400 and Memory.objects.count() == 1


def test_page_lists_messages_searches_and_toggles(
    web: Client, tenant: User, django_capture_on_commit_callbacks
) -> None:
    memory = new_memory(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        for said in ("I parked on level 3, spot 41.", "My dentist is Dr. Okafor."):
            message_add(
                user=tenant, memory_ids=[memory.pk], message=NewMessage("u", "a", "s", said, "ok")
            )
    page = web.get(f"/memory/{memory.pk}/").content.decode()
    assert "2 messages" in page and "spot 41" in page and "Dr. Okafor" in page
    assert "No extraction" in page  # semantic enabled, but the extractive model cannot extract
    results = web.get(f"/memory/{memory.pk}/search/", {"query": "where is my car"}).content
    assert b"spot 41" in results.split(b"</li>")[0]
    message = MemoryMessage.objects.get(content__contains="Okafor")
    toggled = web.post(
        f"/memory/{memory.pk}/messages/{message.pk}/status/", headers={"HX-Request": "true"}
    )
    assert toggled.status_code == 200 and b"disabled" in toggled.content
    assert not MemoryMessage.objects.get(pk=message.pk).status
    web.post(f"/memory/{memory.pk}/messages/{message.pk}/forget/")
    assert MemoryMessage.objects.get(pk=message.pk).forget_at is not None
    saved = web.post(
        f"/memory/{memory.pk}/settings/",
        {
            "name": "renamed",
            "memory_type": ["raw", "semantic"],
            "embd_id": MINILM,
            "llm_id": EXTRACTIVE,
            "permissions": "team",
            "memory_size": 8192,
        },
    )
    assert saved.status_code == 302
    memory.refresh_from_db()
    assert memory.name == "renamed" and memory.permissions == "team"
    refused = web.post(
        f"/memory/{memory.pk}/settings/",
        {
            "name": "renamed",
            "memory_type": ["raw"],
            "embd_id": MINILM,
            "llm_id": EXTRACTIVE,
            "permissions": "team",
            "memory_size": 8192,
        },
    )
    assert refused.status_code == 400 and "when memory isn&#x27;t empty" in refused.content.decode()
    assert web.post(f"/memory/{memory.pk}/delete/").status_code == 302
    assert not Memory.objects.exists() and not MemoryMessage.objects.exists()


def test_another_users_memory_is_404(web: Client, other_tenant: User) -> None:
    foreign = new_memory(other_tenant, "theirs")
    assert web.get(f"/memory/{foreign.pk}/").status_code == 404
    assert web.get(f"/memory/{foreign.pk}/search/", {"query": "x"}).status_code == 404
    assert web.post(f"/memory/{foreign.pk}/delete/").status_code == 404
    assert web.post(f"/memory/{foreign.pk}/settings/", {"name": "mine"}).status_code == 404
    assert "theirs" not in web.get("/memory/").content.decode()
    assert Memory.objects.get(pk=foreign.pk).name == "theirs"


def test_memory_pages_in_chinese(web: Client, tenant: User) -> None:
    memory = new_memory(tenant)
    web.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    listing = web.get("/memory/").content.decode()
    assert "你的记忆" in listing and ">记忆</a>" in listing
    page = web.get(f"/memory/{memory.pk}/").content.decode()
    assert "0 条消息" in page and "不提取" in page and "删除此记忆" in page
