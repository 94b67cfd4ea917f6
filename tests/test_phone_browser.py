"""Every page at a phone's width (390 × 844) in a real browser (Debian's Chromium, Playwright,
live Daphne): nothing scrolls sideways, even with a long URL, a long unbroken token, a table
and a code block in answers, citations, chunks and retrieval hits (issue 17: the chat page
measured 509 px of content on a 390 px screen).

Set RAGSITE_SCREENSHOTS=<dir> to keep a screenshot of each page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from agents.services.agents import agent_create
from agents.services.memories import NewMessage, memory_create, message_add
from agents.templates_library import qa_dsl
from chat.services.assistants import ChatChanges, chat_create
from chat.services.searches import search_create
from chat.services.sessions import session_create
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.test_browser import CHROMIUM, browser_page, snapshot

PASSWORD = "pia-password-1"
PHONE = {"width": 390, "height": 844}
URL = (
    "https://docs.example.com/products/vector-search/reference/configuration/"
    "advanced-settings-for-hnsw-index-construction?version=2026.11&lang=en#ef-construction"
)
TOKEN = "sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" * 2
FENCE = "`" * 3
CONTENT = f"""Index settings are described at {URL} in full.

The build checksum is {TOKEN}.

| Setting | Default | Meaning |
|---------|---------|---------|
| ef_construction_for_very_large_collections | 200 | candidates kept while building the graph |
| maximum_connections_per_layer_in_the_graph | 16 | links per node on each layer |

{FENCE}
vector-index build --ef-construction 200 --max-connections 16 --metric cosine --source {URL}
{FENCE}
"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def pia(transactional_db: None, settings: Any) -> dict[str, Any]:
    # Everything is created before Playwright starts (its event loop forbids sync ORM calls).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = User.objects.create_user("pia", "pia@example.com", PASSWORD)
    api_key_create(user=user, name=f"laptop {TOKEN}")
    dataset = dataset_create(
        tenant=user, name="Vector search handbook", description=f"Everything from {URL}"
    )
    document = Document.objects.create(
        dataset=dataset, tenant=user, name=f"{TOKEN[:60]}.md", type="doc", suffix="md"
    )
    chunk = chunk_add(document=document, content=CONTENT)
    chat = chat_create(
        tenant=user,
        changes=ChatChanges(
            name="Index helper", dataset_ids=[dataset.pk], similarity_threshold=0.0
        ),
    )
    session = session_create(chat=chat, name=f"Where is {URL}?")
    session.messages += [
        {"role": "user", "content": f"Where are the index settings? {TOKEN}", "id": "m1"},
        {"role": "assistant", "content": f"{CONTENT}\n\nSee {URL} [ID:0].", "id": "m1"},
    ]
    session.references = [
        {
            "chunks": [
                {
                    "id": chunk.pk,
                    "content": CONTENT,
                    "document_id": document.pk,
                    "document_name": document.name,
                    "dataset_id": dataset.pk,
                }  # fmt: skip
            ]
        }
    ]
    session.save()
    dsl = qa_dsl(dataset_ids=[dataset.pk], llm_id="", prologue=f"Ask me about {URL}")
    agent = agent_create(tenant=user, title="Index agent", dsl=dsl, description=URL)
    search = search_create(
        tenant=user,
        name=f"Search {TOKEN[:60]}",
        search_config={"kb_ids": [dataset.pk], "highlight": True, "summary": True},
    )
    memory = memory_create(
        tenant=user,
        name=f"Memory {TOKEN[:60]}",
        memory_type=["raw", "semantic"],
        embd_id="sentence-transformers/all-MiniLM-L6-v2@Builtin",
        llm_id="ragsite-extractive@Builtin",
    )
    message_add(
        user=user,
        memory_ids=[memory.pk],
        message=NewMessage(user.pk, agent.pk, TOKEN, f"Where is {URL}?", CONTENT),
    )
    return {"dataset": dataset, "document": document, "chunk": chunk, "chat": chat,
            "session": session, "agent": agent, "search": search, "memory": memory}  # fmt: skip


def overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def wider_elements(page: Any) -> list[str]:
    """What sticks out past the right edge, to say where to look."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > 391 && e.offsetParent !== null)
              .slice(0, 8)
              .map(e => e.tagName + '.' + [...e.classList].join('.') + ' ' +
                   Math.round(e.getBoundingClientRect().right))"""
        )
    )


def test_every_page_fits_a_phone(live_server_url: str, pia: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    ds, doc, chat = pia["dataset"].pk, pia["document"].pk, pia["chat"].pk
    pages = {
        "chat": f"/chats/{chat}/sessions/{pia['session'].pk}/",
        "chat-list": "/chats/",
        "chat-settings": f"/chats/{chat}/settings/",
        "datasets": "/",
        "documents": f"/datasets/{ds}/",
        "chunks": f"/datasets/{ds}/documents/{doc}/chunks/",
        "retrieval": f"/datasets/{ds}/retrieval/",
        "evaluation": f"/datasets/{ds}/evaluation/",
        "search-list": "/search/",
        "search": f"/search/{pia['search'].pk}/",
        "agents": "/agents/",
        "agent": f"/agents/{pia['agent'].pk}/",
        "api-keys": "/keys/",
        "settings": "/settings/",
        "files": "/files/",
        "memory-list": "/memory/",
        "memory": f"/memory/{pia['memory'].pk}/",
    }
    too_wide: dict[str, Any] = {}
    with browser_page(tmp_path, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        page.goto(f"{live_server_url}/accounts/login/")
        if (width := overflow(page)) > PHONE["width"]:
            too_wide["login"] = (width, wider_elements(page))
        snapshot(page, "phone-login")
        page.fill("#id_username", "pia")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        for name, path in pages.items():
            page.goto(live_server_url + path)
            page.wait_for_load_state("networkidle")
            if name == "chat":
                expect(page.locator(".message--assistant .message__text table")).to_have_count(1)
                page.locator(".cite__button").first.click()  # the citation opens, with its chunk
                expect(page.locator(".citation").first).to_be_visible()
            if name == "retrieval":
                page.locator("#retrieval-form [name=question]").fill("index settings checksum")
                page.locator("#retrieval-form button[type=submit]").click()
                expect(page.locator(".hits .hit").first).to_be_visible()
                page.wait_for_load_state("networkidle")
            if name == "search":
                page.locator("#search-question").fill("index settings checksum")
                expect(page.locator(".search-hit").first).to_be_visible()
                expect(page.locator(".search-summary.is-done")).to_be_visible(timeout=30_000)
                page.locator(".search-settings summary").click()
            if name == "memory":
                page.locator("#memory-query").fill("index settings checksum")
                expect(page.locator(".memory-hit").first).to_be_visible()
                page.locator(".memory-turn details summary").first.click()
                page.locator(".search-settings summary").click()
            if name == "chat":
                page.locator(".mindmap summary").click()
                expect(page.locator(".mindmap__tree li").first).to_be_visible()
                page.locator(".feedback__down summary").click()
            snapshot(page, f"phone-{name}")
            if (width := overflow(page)) > PHONE["width"]:
                too_wide[name] = (width, wider_elements(page))
    assert not too_wide, too_wide
