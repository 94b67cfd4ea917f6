"""The agent pages in a real browser: Debian's Chromium driven by Playwright against live Daphne
(and Celery), asking over the real websocket.

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

from knowledge.models import Dataset, Document
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
PASSWORD = "edda-password-1"
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

# Records each text the streaming reply shows, and whether the question box was disabled then.
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
def field_notes(transactional_db: None, settings: Any) -> Dataset:
    # The live server checks passwords with the real hashers, not the tests' fast MD5 one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # Everything is created before Playwright starts: its event loop makes later sync ORM
    # calls in this thread raise SynchronousOnlyOperation.
    edda = User.objects.create_user("edda", "edda@example.com", PASSWORD)
    dataset = dataset_create(tenant=edda, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=edda, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    chunk_add(document=document, content="Seals haul out on the northern spit at low tide.")
    return dataset


@contextmanager
def browser_page(tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium page; on failure, a full-page screenshot is saved and its path printed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    page.fill("#id_username", "edda")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_browser_creates_a_qa_agent_asks_it_and_sees_the_cited_answer(
    live_server_url: str, field_notes: Dataset, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.get_by_role("navigation").get_by_role("link", name="Agents").click()
        expect(page.locator("#agent-list .empty-state")).to_be_visible()

        # From the Q&A template, picking the knowledge base.
        page.get_by_role("link", name="New agent").click()
        templates = page.locator(".template-card")
        expect(templates).to_have_count(4)  # three templates and "Paste a DSL"
        snapshot(page, "agent-templates")
        templates.filter(has_text="Knowledge-base Q&A").get_by_role(
            "link", name="Use this template"
        ).click()
        page.get_by_label("Title").fill("Walrus agent")
        page.get_by_label("Description").fill("Answers from the field notes.")
        page.get_by_label("Field notes").check()
        expect(page.get_by_label("Chat model")).to_contain_text("(extractive, offline)")
        snapshot(page, "agent-template-form")
        page.get_by_role("button", name="Create agent").click()

        # It opens on the agent's page; the first session starts with the prologue.
        expect(page.locator("h1")).to_have_text("Walrus agent")
        expect(page.locator(".alert--success")).to_contain_text("Walrus agent")
        page.get_by_role("button", name="Start a session").click()
        page.wait_for_url(f"{live_server_url}/agents/*/sessions/*/")
        messages = page.locator("#messages > .message")
        expect(messages).to_have_count(1)
        expect(messages.first).to_contain_text("What would you like to know?")
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()  # the websocket is open

        page.evaluate(WATCH_STREAM)
        question.fill(QUESTION)
        question.press("Enter")

        answer = messages.nth(2)
        expect(messages.nth(1).locator(".message__text")).to_have_text(QUESTION)
        cite = answer.locator(".message__text .cite__button").first
        expect(cite).to_be_visible(timeout=60_000)
        expect(answer.locator(".message__text")).to_contain_text("4312")
        expect(question).to_be_enabled()
        expect(question).to_be_focused()

        stream = page.evaluate("window.__stream")
        texts = [s["text"] for s in stream if s["text"]]
        growing = list(dict.fromkeys(texts))
        assert len(growing) >= 3, texts  # it came in delta by delta, not all at once
        assert all(s["disabled"] for s in stream[:-1] if s["text"]), stream
        assert "[ID:" not in "".join(texts)

        # The marker reveals the chunk it cites: its document and its text.
        passage = answer.locator(".citation").first
        expect(passage).to_be_hidden()
        expect(cite).to_have_text("①")
        cite.click()
        expect(passage).to_be_visible()
        expect(passage).to_contain_text(WALRUS)
        expect(passage.get_by_role("link", name="walrus.txt")).to_be_visible()
        expect(cite).to_have_attribute("aria-expanded", "true")
        # The session is named after its first question.
        expect(page.locator(".session-item.is-current")).to_contain_text(QUESTION)
        expect(page.locator(".session-item.is-current")).to_contain_text("Just now")
        snapshot(page, "agent-conversation")

        # An idle socket stays up, and a second question streams on the same connection.
        page.wait_for_timeout(6_000)
        question.fill("When was the walrus colony counted?")
        page.get_by_role("button", name="Send").click()
        expect(messages).to_have_count(5)
        expect(question).to_be_enabled(timeout=60_000)
        expect(messages.nth(4).locator(".message__text")).to_contain_text("2019")

        # A reload restores the conversation from the session, citations included.
        page.reload()
        expect(messages).to_have_count(5)
        restored = messages.nth(2)
        expect(restored.locator(".message__text")).to_contain_text("4312")
        restored.locator(".message__text .cite__button").first.click()
        expect(restored.locator(".citation").first).to_contain_text(WALRUS)

        # The edit page draws the components.
        page.get_by_role("link", name="Edit").click()
        diagram = page.locator(".diagram-panel svg")
        for cpn_id in ("begin", "Retrieval:Search", "LLM:Answer", "Message:Reply"):
            expect(diagram.locator(f'[data-id="{cpn_id}"]')).to_be_visible()
        snapshot(page, "agent-edit")

        # Break the model in the DSL: a new session shows the error, naming the component.
        dsl = page.get_by_label("DSL (JSON)")
        dsl.fill(dsl.input_value().replace("ragsite-extractive@Builtin", "missing@Nowhere"))
        page.get_by_role("button", name="Check and draw").click()
        expect(page.locator("#dsl-check")).to_contain_text("The DSL is valid: 4 components.")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".alert--success")).to_contain_text("saved")
        page.get_by_role("link", name="Open").click()
        page.get_by_role("button", name="New session").click()
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()
        question.fill(QUESTION)
        question.press("Enter")
        failed = messages.nth(2)
        expect(failed).to_have_class("message message--assistant message--error", timeout=60_000)
        expect(failed).to_contain_text("Component 'LLM:Answer' failed")
        expect(question).to_be_enabled()  # still usable
        snapshot(page, "agent-error")

        # The list shows the counts; the card deletes after confirming.
        page.get_by_role("navigation").get_by_role("link", name="Agents").click()
        card = page.locator("#agent-list article", has_text="Walrus agent")
        expect(card.locator(".meta__number")).to_have_text(["4", "2"])
        snapshot(page, "agent-list")
        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name="Delete").click()
        expect(page.locator("#agent-list article")).to_have_count(0)
        expect(page.locator("#agent-list .empty-state")).to_be_visible()
