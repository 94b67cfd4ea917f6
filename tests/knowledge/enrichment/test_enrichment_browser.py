"""In a real browser (Chromium, live Daphne, a real Celery worker): the LLM enrichment panel
says what to configure without a chat model, and with the test chat model builds RAPTOR
summaries that the chunk browser shows."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import global_settings

from knowledge.models import Document, ModelProvider
from ragsite.accounts.models import User
from tests.knowledge.enrichment.helpers import parsed_dataset
from tests.llm_server import LLMServer
from tests.test_browser import CHROMIUM, browser_page, snapshot

PASSWORD = "vera-password-1"
T = TypeVar("T")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


def in_thread(fn: Callable[[], T]) -> T:
    """Run ORM code off Playwright's event loop (Django refuses it there)."""

    def run() -> T:
        from django.db import connection

        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def vera(transactional_db: None, settings: Any, live_workdir: Path) -> User:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # The live server reads the documents this process stores.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(live_workdir / "media")},
        },
    }
    return User.objects.create_user("vera", "vera@example.com", PASSWORD)


def test_the_panel_explains_then_builds_raptor_and_the_chunks_show_it(
    live_server_url: str, vera: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = parsed_dataset(vera, lambda **kw: contextlib.nullcontext(), name="Almanac")
    with browser_page(tmp_path) as page, LLMServer() as llm:
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", "vera")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        panel = page.locator("#enrichment-panel")
        expect(panel.locator("[data-llm-missing]")).to_contain_text(
            "Configure a chat model provider first (Admin → Model providers)."
        )
        expect(panel.get_by_role("button", name="Build RAPTOR summaries")).to_be_disabled()
        snapshot(page, "enrichment-no-llm")

        in_thread(
            lambda: ModelProvider.objects.create(
                factory="TestLLM", base_url=llm.base_url, chat_models="tiny"
            )
        )
        page.reload()
        expect(panel.locator("[data-llm-missing]")).to_have_count(0)
        panel.get_by_label("Auto keywords per chunk").fill("3")
        panel.get_by_role("button", name="Save enrichment settings").click()
        expect(panel.locator(".alert--success")).to_contain_text("Enrichment settings saved.")
        panel.get_by_role("button", name="Build RAPTOR summaries").click()
        # The worker may load the embedding model first; the panel polls until the job ends.
        expect(panel.locator("[data-raptor-status]")).to_have_attribute(
            "data-raptor-status", "done", timeout=120_000
        )
        expect(panel.get_by_role("button", name="Rebuild RAPTOR summaries")).to_be_visible()
        snapshot(page, "enrichment-raptor-done")

        document = in_thread(lambda: Document.objects.get(dataset=dataset))
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/documents/{document.pk}/chunks/")
        expect(page.locator(".badge--raptor").first).to_contain_text("RAPTOR summary · layer 1")
        assert llm.requests  # the worker asked the test model
