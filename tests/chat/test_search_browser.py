"""The Search page in a real browser (Chromium via Playwright against live Daphne): results
appear as you type, with the question's words highlighted and the summary streamed; the
settings change what is shown; the page works 390 px wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from chat.models import SearchApp
from chat.services.searches import search_create
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

RELATED = "How are walruses counted from the air?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def dora_search(transactional_db: None, settings: Any) -> SearchApp:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    dora = User.objects.create_user("dora", "dora@example.com", PASSWORD)
    dataset = dataset_create(tenant=dora, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=dora, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS, questions=[RELATED])
    chunk_add(document=document, content="Seals haul out on the northern spit at low tide.")
    return search_create(
        tenant=dora,
        name="Walrus search",
        search_config={"kb_ids": [dataset.pk], "highlight": True, "summary": True},
    )


def no_sideways_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_browser_search_page_instant_results_highlights_and_summary(
    live_server_url: str, dora_search: SearchApp, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.get_by_role("navigation").get_by_role("link", name="Search").click()
        expect(page.locator("h1")).to_have_text("Search")
        page.get_by_role("link", name="Walrus search").click()
        page.wait_for_url(f"{live_server_url}/search/{dora_search.pk}/")

        box = page.get_by_role("searchbox")
        # Typed, never submitted: the results come as the words do.
        box.press_sequentially("walrus colony Kolguev", delay=40)
        hits = page.locator("#search-results .search-hit")
        expect(hits.first).to_contain_text("4312", timeout=30_000)
        expect(hits.first.locator("mark").first).to_be_visible()
        marked = [m.lower() for m in hits.first.locator("mark").all_inner_texts()]
        assert "walrus" in marked and "kolguev" in marked, marked
        assert page.url == f"{live_server_url}/search/{dora_search.pk}/"  # no reload

        summary = page.locator(".search-summary")
        expect(summary.locator("[data-summary-text]")).to_contain_text("4312", timeout=60_000)
        expect(summary).to_have_class("search-summary is-done")
        assert "[ID:" not in summary.inner_text()
        # Finished, the summary is the server's rendered Markdown (paragraphs), not raw text.
        expect(summary.locator("[data-summary-text] p").first).to_contain_text("4312")
        snapshot(page, "search-results")

        # A new question replaces the results and the summary.
        box.fill("seals northern spit")
        expect(hits.first).to_contain_text("Seals haul out", timeout=30_000)
        expect(summary.locator("[data-summary-text]")).to_contain_text("Seals", timeout=60_000)

        # Settings: summary and highlight off.
        page.locator("summary", has_text="Settings").click()
        page.get_by_label("Answer summary").uncheck()
        page.get_by_label("Highlight matches").uncheck()
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".alert--success")).to_contain_text("Settings saved.")
        page.get_by_role("searchbox").fill("walrus colony Kolguev")
        expect(hits.first).to_contain_text("4312", timeout=30_000)
        expect(page.locator(".search-summary")).to_have_count(0)
        expect(hits.first.locator("mark")).to_have_count(0)

        # Related questions and the mind map on: a related question is searched on click.
        page.locator("summary", has_text="Settings").click()
        page.get_by_label("Related questions").check()
        page.get_by_label("Mind map").check()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_role("searchbox").fill("walrus colony Kolguev")
        related = page.locator("#search-results .related__question", has_text=RELATED)
        expect(related).to_be_visible(timeout=30_000)
        expect(page.locator(".search-mindmap .mindmap__tree")).to_contain_text("walrus.txt")
        related.click()
        expect(page.get_by_role("searchbox")).to_have_value(RELATED)
        expect(hits.first).to_contain_text("4312", timeout=30_000)
        snapshot(page, "search-related")

        # 390 px wide: nothing scrolls sideways and the search box stays usable.
        page.set_viewport_size(PHONE)
        expect(page.get_by_role("searchbox")).to_be_visible()
        assert no_sideways_scroll(page)
        page.locator("summary", has_text="Settings").click()
        assert no_sideways_scroll(page)
        snapshot(page, "search-phone")


def test_browser_search_page_creates_an_app_at_phone_width(
    live_server_url: str, dora_search: SearchApp, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        page.set_viewport_size(PHONE)
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/search/")
        assert no_sideways_scroll(page)
        page.get_by_label("New search app").fill("Seal search")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("h1")).to_have_text("Seal search")
        expect(page.locator("#search-results")).to_contain_text("Choose the knowledge bases")
        page.locator("summary", has_text="Settings").click()
        page.get_by_label("Field notes").check()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_role("searchbox").fill(QUESTION)
        expect(page.locator("#search-results .search-hit").first).to_contain_text(
            "4312", timeout=30_000
        )
        assert no_sideways_scroll(page)
