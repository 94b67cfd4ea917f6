"""Markdown rendered in a real browser (Debian's Chromium, Playwright, live Daphne): chat answers,
agent replies, the chunk browser and retrieval hits show formatted text, never raw markup, and
nothing in a document or an answer runs. The keyword ↔ semantic slider reads and moves the same
way on the chat settings and the retrieval test page.

The chat model is an OpenAI-compatible service in this process that streams a fixed Markdown
answer (the built-in extractive model's wording is not under test here).

Set RAGSITE_SCREENSHOTS=<dir> to keep screenshots.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings
from django.urls import reverse

from agents.models import Agent
from agents.services.agents import agent_create
from agents.templates_library import qa_dsl
from chat.models import Chat
from chat.services.assistants import ChatChanges, chat_create
from knowledge.models import Dataset, Document, ModelProvider
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.chat.test_chat_browser import CHROMIUM, browser_page

PASSWORD = "mira-password-1"
FENCE = "`" * 3

# A chunk as a Markdown README gives it: heading, emphasis, entity, list, table, quote, code,
# an HTML link, a Markdown link, and a script that must never run.
CHUNK = f"""## Hardware

Minimum: **4 GB RAM** and a CPU &ge; 2 cores.

- Disk: 50 GB
- Network: *optional*

| Part | Size |
|---|---|
| RAM | 4 GB |

> Note: swap helps.

{FENCE}sh
docker compose up -d
{FENCE}

See <a href="https://example.com/guide">the guide</a> or [the docs](https://docs.example.com).
<script>window.__pwned = "chunk"</script>
"""

# What the scripted model answers, citing the chunk.
ANSWER = f"""The minimum is **4 GB RAM** and a CPU &ge; 2 cores [ID:0].

- Disk: 50 GB
- Network: *optional*

| Part | Size |
|---|---|
| RAM | 4 GB |

> Note: swap helps.

{FENCE}sh
docker compose up -d
{FENCE}

See <a href="https://example.com/guide">the guide</a>.<script>window.__pwned = "answer"</script>
"""
QUESTION = "What is the minimum hardware?"
RAW = ["**", "&ge;", "<a href", "<script", "> Note", "```", "| Part", "[ID:"]
SAFE_REL = "noopener noreferrer nofollow"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@contextmanager
def scripted_model_service() -> Iterator[str]:
    """An OpenAI-compatible chat service (base URL) streaming ANSWER in small deltas."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for start in range(0, len(ANSWER), 16):
                event = {"choices": [{"delta": {"content": ANSWER[start : start + 16]}}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def model_url() -> Iterator[str]:
    with scripted_model_service() as url:
        yield url


@pytest.fixture
def world(transactional_db: None, settings: Any, model_url: str) -> dict[str, Any]:
    # Everything is created before Playwright starts (its event loop forbids sync ORM calls).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    mira = User.objects.create_user("mira", "mira@example.com", PASSWORD)
    ModelProvider.objects.create(
        factory="Scripted", base_url=model_url, chat_models="scribe", timeout_seconds=30
    )
    dataset = dataset_create(tenant=mira, name="Install notes")
    document = Document.objects.create(
        dataset=dataset, tenant=mira, name="README.md", type="doc", suffix="md"
    )
    chunk_add(document=document, content=CHUNK)
    chat = chat_create(
        tenant=mira,
        changes=ChatChanges(
            name="Install bot",
            dataset_ids=[dataset.pk],
            llm_id="scribe@Scripted",
            similarity_threshold=0.0,
            vector_similarity_weight=0.3,
        ),
    )
    dsl = qa_dsl(dataset_ids=[dataset.pk], llm_id="scribe@Scripted", prologue="Ask me.")
    agent = agent_create(tenant=mira, title="Install agent", dsl=dsl)
    return {"dataset": dataset, "document": document, "chat": chat, "agent": agent}


def snapshot(page: Any, name: str) -> None:
    if directory := os.environ.get("RAGSITE_SCREENSHOTS"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "mira")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def assert_rendered(page: Any, box: Any) -> None:
    """`box` shows the Markdown of CHUNK / ANSWER formatted, with no raw markup left."""
    from playwright.sync_api import expect

    expect(box.locator("strong").first).to_have_text("4 GB RAM")
    expect(box.locator("li")).to_have_text(["Disk: 50 GB", "Network: optional"])
    expect(box.locator("li em")).to_have_text("optional")
    expect(box.locator("table th")).to_have_text(["Part", "Size"])
    expect(box.locator("table td")).to_have_text(["RAM", "4 GB"])
    expect(box.locator("blockquote")).to_contain_text("Note: swap helps.")
    expect(box.locator("pre code")).to_have_text("docker compose up -d\n")
    guide = box.get_by_role("link", name="the guide")
    expect(guide).to_have_attribute("href", "https://example.com/guide")
    expect(guide).to_have_attribute("target", "_blank")
    expect(guide).to_have_attribute("rel", SAFE_REL)
    text = box.inner_text()
    assert "≥ 2 cores" in text, text
    for raw in RAW:
        assert raw not in text, (raw, text)
    assert box.locator("script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_browser_shows_a_chat_answer_and_its_passage_as_formatted_text(
    live_server_url: str, world: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    chat: Chat = world["chat"]
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(live_server_url + reverse("chat:chat_detail", args=[chat.pk]))
        page.get_by_role("button", name="Start a session").click()
        page.wait_for_url(f"{live_server_url}/chats/{chat.pk}/sessions/*/")
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()
        question.fill(QUESTION)
        question.press("Enter")

        messages = page.locator("#messages > .message")
        answer = messages.nth(2)
        cite = answer.locator(".message__text .cite__button")
        expect(cite).to_have_text("①", timeout=60_000)
        expect(question).to_be_enabled()
        assert_rendered(page, answer.locator(".message__text"))

        # ① opens the cited passage: the chunk, rendered too.
        cite.click()
        passage = answer.locator(".citation")
        expect(passage).to_be_visible()
        expect(passage.locator(".citation__number")).to_have_text("①")
        assert_rendered(page, passage.locator(".citation__text"))
        expect(answer.locator(".sources .cite__button")).to_have_text("①")
        snapshot(page, "markdown-chat-answer")

        # A reload renders the stored answer the same way.
        page.reload()
        restored = messages.nth(2)
        assert_rendered(page, restored.locator(".message__text"))
        expect(restored.locator(".message__text .cite__button")).to_have_text("①")


def test_browser_shows_an_agent_reply_as_formatted_text(
    live_server_url: str, world: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    agent: Agent = world["agent"]
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(live_server_url + reverse("agents:agent_detail", args=[agent.pk]))
        page.get_by_role("button", name="Start a session").click()
        page.wait_for_url(f"{live_server_url}/agents/{agent.pk}/sessions/*/")
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()
        question.fill(QUESTION)
        question.press("Enter")

        reply = page.locator("#messages > .message").nth(2)
        cite = reply.locator(".message__text .cite__button")
        expect(cite).to_have_text("①", timeout=60_000)
        expect(question).to_be_enabled()
        assert_rendered(page, reply.locator(".message__text"))
        cite.click()
        assert_rendered(page, reply.locator(".citation__text"))
        snapshot(page, "markdown-agent-reply")

        page.reload()
        assert_rendered(page, page.locator("#messages > .message").nth(2).locator(".message__text"))


def test_browser_shows_chunks_and_hits_as_formatted_text(
    live_server_url: str, world: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset: Dataset = world["dataset"]
    document: Document = world["document"]
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(
            live_server_url + reverse("knowledge:document_chunks", args=[dataset.pk, document.pk])
        )
        card = page.locator("#chunk-list article.chunk")
        expect(card).to_have_count(1)
        expect(card.locator(".chunk__title")).to_have_text("Chunk #1")  # counted from 1
        expect(card.locator(".chunk__text h2")).to_have_text("Hardware")
        assert_rendered(page, card.locator(".chunk__text"))
        snapshot(page, "markdown-chunk")

        # Searching marks the words inside the rendered text.
        page.get_by_placeholder("Search the text").fill("docker")
        expect(card.locator(".chunk__text pre code mark")).to_have_text("docker")
        assert_rendered(page, card.locator(".chunk__text"))

        page.goto(live_server_url + reverse("knowledge:retrieval_test", args=[dataset.pk]))
        page.get_by_label("Question").fill("minimum hardware RAM")
        page.get_by_label("Question").press("Enter")
        hit = page.locator("#retrieval-results li.hit").first
        expect(hit).to_be_visible(timeout=60_000)
        assert_rendered(page, hit.locator(".hit__text"))
        expect(hit.locator(".hit__text mark").first).to_be_visible()
        snapshot(page, "markdown-retrieval-hit")


def test_browser_weight_slider_reads_and_moves_the_same_on_both_pages(
    live_server_url: str, world: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    chat: Chat = world["chat"]
    dataset: Dataset = world["dataset"]
    pages = {
        "chat-settings": reverse("chat:chat_settings", args=[chat.pk]),
        "retrieval-test": reverse("knowledge:retrieval_test", args=[dataset.pk]),
    }
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        for name, path in pages.items():
            page.goto(live_server_url + path)
            slider = page.get_by_label("Keyword ↔ Semantic")
            field = page.locator(".field--range").filter(has=slider)
            keyword = field.locator(".range__end").first
            semantic = field.locator(".range__end").last
            expect(keyword).to_have_text("Keyword")
            expect(semantic).to_have_text("Semantic")
            # Keyword on the left, semantic on the right, the value the semantic weight.
            left, middle, right = (
                keyword.bounding_box(),
                slider.bounding_box(),
                semantic.bounding_box(),
            )
            assert left["x"] < middle["x"] < right["x"], (name, left, middle, right)
            value = field.locator("output")
            expect(field.locator(".range__value")).to_contain_text("Semantic weight")
            expect(value).to_have_text("0.30")
            slider.fill("0.8")
            expect(value).to_have_text("0.80")
            snapshot(page, f"markdown-slider-{name}")

        # Saved from the chat settings, the semantic weight comes back as it was set.
        page.goto(live_server_url + pages["chat-settings"])
        page.get_by_label("Keyword ↔ Semantic").fill("0.8")
        page.get_by_role("button", name="Save").click()
        page.goto(live_server_url + pages["chat-settings"])
        expect(page.get_by_label("Keyword ↔ Semantic")).to_have_value("0.8")
