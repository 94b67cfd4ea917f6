"""The chat page in a real browser: Debian's Chromium driven by Playwright against live Daphne,
asking over the real websocket (through Valkey's channel layer).

Set RAGSITE_SCREENSHOTS=<dir> to keep screenshots of each step, at desktop and phone widths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from chat.models import Chat
from chat.services.assistants import ChatChanges, chat_create
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

# As in tests/test_browser.py.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "dora-password-1"
WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
QUESTION = "How many walruses were counted on Kolguev island?"
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium fonts-wqy-microhei)",
    ),
]

# Records each text the streaming answer shows, and whether the question box was disabled then.
WATCH_STREAM = """
() => {
  window.__stream = [];
  const list = document.getElementById("messages");
  new MutationObserver(() => {
    const answers = list.querySelectorAll(".message--assistant .message__text");
    const last = answers[answers.length - 1];
    window.__stream.push({
      text: last ? last.textContent : "",
      disabled: document.getElementById("question").disabled,
    });
  }).observe(list, { childList: true, subtree: true, characterData: true });
}
"""


@pytest.fixture
def dora_chat(transactional_db: None, settings: Any) -> Chat:
    # The live server checks passwords with the real hashers, not the tests' fast MD5 one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # Everything is created before Playwright starts: its event loop makes later sync ORM
    # calls in this thread raise SynchronousOnlyOperation.
    dora = User.objects.create_user("dora", "dora@example.com", PASSWORD)
    dataset = dataset_create(tenant=dora, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=dora, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    chunk_add(document=document, content="Seals haul out on the northern spit at low tide.")
    return chat_create(
        tenant=dora,
        changes=ChatChanges(name="Walrus bot", description="Counts.", dataset_ids=[dataset.pk]),
    )


@contextmanager
def browser_page(tmp_path: Path, **context_options: Any) -> Iterator[Any]:
    """A fresh Chromium page; on failure, a full-page screenshot is saved and its path printed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        except BaseException:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
            raise
        finally:
            browser.close()


def snapshot(page: Any, name: str) -> None:
    if directory := os.environ.get("RAGSITE_SCREENSHOTS"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(Path(directory) / f"{name}-phone.png"), full_page=True)
        # Sticky parts (the question box) only look right in a plain viewport shot.
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.screenshot(path=str(Path(directory) / f"{name}-phone-bottom.png"))
        page.set_viewport_size(size)


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "dora")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_browser_asks_streams_the_answer_cites_it_and_restores_it(
    live_server_url: str, dora_chat: Chat, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.get_by_role("navigation").get_by_role("link", name="Chats").click()
        card = page.locator("#chat-list article", has_text="Walrus bot")
        expect(card).to_contain_text("Field notes")
        expect(card.locator(".badge--extractive")).to_have_text("Extractive")
        snapshot(page, "chats")

        card.get_by_role("link", name="Chat with “Walrus bot”").click()
        expect(page.get_by_role("heading", name="No sessions yet")).to_be_visible()
        page.get_by_role("button", name="Start a session").click()
        page.wait_for_url(f"{live_server_url}/chats/{dora_chat.pk}/sessions/*/")
        session_url = page.url

        messages = page.locator("#messages > .message")
        expect(messages).to_have_count(1)  # the opener
        expect(messages.first).to_contain_text("What can I do for you?")
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()  # the websocket is open
        expect(page.locator("#socket-status")).to_be_hidden()

        page.evaluate(WATCH_STREAM)
        question.fill(QUESTION)
        question.press("Enter")

        answer = messages.nth(2)
        expect(messages.nth(1)).to_have_class("message message--user")
        expect(messages.nth(1).locator(".message__text")).to_have_text(QUESTION)
        cite = answer.locator(".message__text .cite__button").first
        expect(cite).to_be_visible(timeout=60_000)
        expect(answer.locator(".message__text")).to_contain_text("4312")
        expect(question).to_be_enabled()
        expect(question).to_be_focused()

        stream = page.evaluate("window.__stream")
        texts = [s["text"] for s in stream if s["text"]]
        growing = [t for t in dict.fromkeys(texts) if "4312" not in t]
        assert len(growing) >= 3, texts  # it came in piece by piece, not all at once
        assert all(s["disabled"] for s in stream if s["text"] and "4312" not in s["text"])
        assert "[ID:" not in "".join(texts)

        # The marker reveals the passage it cites, with its document.
        passage = answer.locator(".citation").first
        expect(passage).to_be_hidden()
        expect(cite).to_have_text("①")
        cite.click()
        expect(passage).to_be_visible()
        expect(passage).to_contain_text(WALRUS)
        href = passage.get_by_role("link", name="walrus.txt").get_attribute("href")
        assert href.startswith(f"/datasets/{dora_chat.dataset_ids[0]}/documents/")
        assert href.endswith("/download/")
        expect(cite).to_have_attribute("aria-expanded", "true")
        expect(answer.locator(".sources")).to_contain_text("walrus.txt")
        expect(page.locator(".session-item.is-current")).to_contain_text("Just now")
        snapshot(page, "chat-answer")
        cite.click()
        expect(passage).to_be_hidden()

        # An idle socket stays up (a consumer on the Redis channel layer dropped after ~5 s).
        page.wait_for_timeout(6_000)
        # Something the knowledge base does not know: an answer without sources, not an error.
        question.fill("Who painted the Mona Lisa?")
        page.get_by_role("button", name="Send").click()
        expect(messages).to_have_count(5)
        expect(question).to_be_enabled(timeout=60_000)
        unknown = messages.nth(4)
        expect(unknown).not_to_have_class("message message--assistant message--error")
        expect(unknown.locator(".message__text")).not_to_be_empty()
        expect(unknown.locator(".message__text")).not_to_contain_text("4312")

        # A reload restores the conversation from the session, citations included.
        page.reload()
        expect(messages).to_have_count(5)
        expect(messages.nth(1).locator(".message__text")).to_have_text(QUESTION)
        restored = messages.nth(2)
        expect(restored.locator(".message__text")).to_contain_text("4312")
        restored.locator(".message__text .cite__button").first.click()
        expect(restored.locator(".citation").first).to_contain_text(WALRUS)

        # Rename inline: the sidebar entry and the heading follow.
        current = page.locator(".session-item.is-current")
        current.get_by_role("link", name="Rename").click()
        name = page.get_by_label("Session name")
        expect(name).to_be_focused()
        name.fill("Walrus counts")
        name.press("Enter")
        expect(page.locator(".session-item.is-current")).to_contain_text("Walrus counts")
        expect(page.locator("#session-title")).to_have_text("Walrus counts")
        assert page.url == session_url
        snapshot(page, "chat-restored")


def test_browser_settings_page_creates_an_assistant(
    live_server_url: str, dora_chat: Chat, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/chats/")
        page.get_by_role("link", name="New assistant").click()
        page.get_by_label("Name", exact=True).fill("Seal bot")
        page.get_by_label("Field notes").check()
        expect(page.get_by_label("Chat model")).to_contain_text("(extractive, offline)")
        slider = page.get_by_label("Keyword ↔ Semantic")
        slider.fill("0.4")
        expect(
            page.locator('output[data-range-output="id_vector_similarity_weight"]')
        ).to_have_text("0.40")
        snapshot(page, "chat-settings")
        page.get_by_role("button", name="Create assistant").click()
        expect(page.locator("h1")).to_have_text("Seal bot")
        expect(page.locator(".alert--success")).to_contain_text("Seal bot")
