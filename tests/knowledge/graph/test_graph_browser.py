"""The knowledge-graph page in a real browser (Debian's Chromium, Playwright, live Daphne with a
real Celery worker, the local test chat model): what to configure without a chat model, a build
followed to the end, the graph drawn, searched and explored, and the page at a phone's width."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from knowledge.models import ModelProvider
from ragsite.accounts.models import User
from tests.graph_llm import register
from tests.knowledge.graph.corpus import GRAPH_CONFIG, parsed_lines
from tests.test_browser import CHROMIUM, browser_page, snapshot

PASSWORD = "gus-password-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def gus(transactional_db: None, settings: Any) -> User:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    return User.objects.create_user("gus", "gus@example.com", PASSWORD)


def test_the_graph_page_builds_shows_and_searches_the_graph(
    live_server_url: str,
    gus: User,
    llm_server: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from playwright.sync_api import expect

    register(llm_server)
    dataset = parsed_lines(gus, django_capture_on_commit_callbacks, **GRAPH_CONFIG)
    url = f"{live_server_url}/datasets/{dataset.pk}/graph/"
    with browser_page(tmp_path) as page:
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", "gus")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")

        # No chat model: the page says what to configure and the button waits.
        page.goto(url)
        expect(page.locator("#graph-no-llm")).to_contain_text("OpenAI-compatible provider")
        build = page.get_by_role("button", name="Build the knowledge graph")
        expect(build).to_be_disabled()
        expect(page.locator("#graph-empty")).to_be_visible()

        # Playwright's event loop runs in this thread: the ORM call goes to another one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(
                ModelProvider.objects.create,
                factory="TestLLM",
                base_url=llm_server.base_url,
                chat_models="tiny",
            ).result()
        page.reload()
        expect(page.locator("#graph-no-llm")).to_have_count(0)
        page.get_by_role("button", name="Build the knowledge graph").click()
        expect(page.locator("#graph-job")).to_be_visible()
        # The worker builds it; the page reloads itself when the job is done.
        entities = page.locator("#graph-entities li")
        expect(entities.first).to_be_visible(timeout=90_000)
        expect(page.locator("#graph-job")).to_have_attribute("data-status", "done")
        expect(page.locator("#graph-canvas canvas").first).to_be_attached()
        assert page.evaluate("window.ragsiteGraph.nodes().length") == entities.count()
        snapshot(page, "graph-page")

        # Names and descriptions: Kirkenes, and the lab whose description names it.
        page.fill("#graph-search", "kirk")
        visible = page.locator("#graph-entities li:visible button")
        expect(visible).to_have_count(2)
        assert sorted(visible.all_inner_texts()) == ["BOREALIS LABS", "KIRKENES"]
        assert page.evaluate("window.ragsiteGraph.nodes('.faded').length") == entities.count() - 2
        page.fill("#graph-search", "zzz-nothing")
        expect(page.locator("#graph-no-match")).to_be_visible()
        page.fill("#graph-search", "")

        page.locator("#graph-entities li", has_text="BOREALIS LABS").get_by_role("button").click()
        details = page.locator("#graph-details")
        expect(details.locator("h3")).to_have_text("BOREALIS LABS")
        expect(details).to_contain_text("Borealis Lab operates its main research station")
        relations = details.locator(".graph-view__relations li")
        expect(relations).to_have_count(2)
        relations.filter(has_text="KIRKENES").get_by_role("button").click()
        expect(details.locator("h3")).to_have_text("KIRKENES")

    with browser_page(
        tmp_path, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    ) as phone:
        phone.goto(f"{live_server_url}/accounts/login/")
        phone.fill("#id_username", "gus")
        phone.fill("#id_password", PASSWORD)
        phone.click("form.stack button[type=submit]")
        phone.wait_for_url(f"{live_server_url}/")
        phone.goto(url)
        expect(phone.locator("#graph-entities li").first).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px screen"
        box = phone.locator("#graph-canvas").bounding_box()
        assert box is not None and box["width"] <= 390 and box["height"] >= 200
        snapshot(phone, "graph-page-phone")
