"""The chat page's answer extras in a real browser (Chromium via Playwright against live Daphne):
related questions under the latest answer, thumbs up and down with a reason, the mind map and
deleting a question with its answer, on a streamed answer and after a reload."""

from __future__ import annotations

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
from tests.chat.test_chat_browser import (
    CHROMIUM,
    PASSWORD,
    PHONE,
    QUESTION,
    WALRUS,
    browser_page,
    log_in,
    snapshot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]
RELATED = "How are walruses counted from the air?"


@pytest.fixture
def dora_chat(transactional_db: None, settings: Any) -> Chat:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    dora = User.objects.create_user("dora", "dora@example.com", PASSWORD)
    dataset = dataset_create(tenant=dora, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=dora, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=f"Walrus counts\n{WALRUS}", questions=[RELATED])
    chunk_add(document=document, content="Seals haul out on the northern spit at low tide.")
    return chat_create(
        tenant=dora, changes=ChatChanges(name="Walrus bot", dataset_ids=[dataset.pk])
    )


def test_browser_answer_extras(live_server_url: str, dora_chat: Chat, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        page.on("dialog", lambda dialog: dialog.accept())  # the delete confirmation
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/chats/{dora_chat.pk}/")
        page.get_by_role("button", name="Start a session").click()
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()
        question.fill(QUESTION)
        question.press("Enter")

        messages = page.locator("#messages > .message")
        answer = messages.nth(2)
        expect(answer.locator(".message__text")).to_contain_text("4312", timeout=60_000)
        # The streamed answer gets its extras at once: related questions load under it.
        related = answer.locator(".related__question")
        expect(related.first).to_have_text(RELATED, timeout=30_000)

        answer.get_by_role("button", name="Helpful").click()
        expect(answer.locator(".feedback__state")).to_have_text("Marked as helpful.")
        expect(answer.get_by_role("button", name="Helpful")).to_have_attribute(
            "aria-pressed", "true"
        )
        answer.locator(".feedback__down summary").click()
        answer.get_by_label("What was wrong? (optional)").fill("It missed the year.")
        answer.get_by_role("button", name="Send feedback").click()
        expect(answer.locator(".feedback__state")).to_contain_text("Marked as not helpful.")
        expect(answer.locator(".feedback__state")).to_contain_text("It missed the year.")

        answer.locator(".mindmap summary").click()
        tree = answer.locator(".mindmap__tree")
        expect(tree).to_contain_text("walrus.txt", timeout=30_000)
        expect(tree).to_contain_text("Walrus counts")
        snapshot(page, "chat-extras")

        # A related question is asked like a typed one; only the latest answer offers them.
        related.first.click()
        expect(messages).to_have_count(5)
        expect(messages.nth(3).locator(".message__text")).to_have_text(RELATED)
        expect(question).to_be_enabled(timeout=60_000)
        expect(page.locator("#messages .related")).to_have_count(1, timeout=30_000)
        expect(messages.nth(4).locator(".related")).to_have_count(1)

        # A reload shows the stored feedback.
        page.reload()
        first = messages.nth(2)
        expect(first.locator(".feedback__state")).to_contain_text("It missed the year.")

        # Delete the first question and its answer.
        first.get_by_role("button", name="Delete this question and its answer").click()
        expect(messages).to_have_count(3)
        expect(messages.nth(1).locator(".message__text")).to_have_text(RELATED)
        page.reload()
        expect(messages).to_have_count(3)

        page.set_viewport_size(PHONE)
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        expect(messages.nth(2).get_by_role("button", name="Helpful")).to_be_visible()
        snapshot(page, "chat-extras-phone")
