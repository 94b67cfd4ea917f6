"""The Memory page in a real browser (Debian's Chromium, Playwright, live Daphne): the nav entry,
create a memory, search its messages as you type, disable and forget a message, delete the
memory; and the page fits a 390 px phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from agents.services.memories import NewMessage, memory_create, message_add
from ragsite.accounts.models import User
from tests.test_browser import CHROMIUM, browser_page

PASSWORD = "mel-password-1"
MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
EXTRACTIVE = "ragsite-extractive@Builtin"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def mel(transactional_db: None, settings: Any) -> dict[str, Any]:
    # Everything is created before Playwright starts (its event loop forbids sync ORM calls).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = User.objects.create_user("mel", "mel@example.com", PASSWORD)
    memory = memory_create(
        tenant=user, name="Errands", memory_type=["raw"], embd_id=MINILM, llm_id=EXTRACTIVE
    )
    for said in ("I parked the car on level 3, spot 41.", "My dentist is Dr. Okafor."):
        message_add(
            user=user, memory_ids=[memory.pk], message=NewMessage("u", "a", "s", said, "Noted.")
        )
    return {"user": user, "memory": memory}


def test_memory_page_create_search_toggle_forget_delete(
    live_server_url: str, mel: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    memory = mel["memory"]
    with browser_page(tmp_path) as page:
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", "mel")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")

        page.get_by_role("link", name="Memory", exact=True).click()
        page.wait_for_url(f"{live_server_url}/memory/")
        expect(page.locator("#memories")).to_contain_text("Errands")

        page.locator(".memory-create summary").click()
        page.fill("#id_name", "Trip notes")
        page.get_by_label("Semantic (facts)").check()
        page.get_by_role("button", name="Create memory", exact=True).click()
        expect(page.locator("h1")).to_have_text("Trip notes")
        expect(page.locator(".alert--info")).to_contain_text("No extraction")

        page.goto(f"{live_server_url}/memory/{memory.pk}/")
        expect(page.locator("#memory-messages")).to_contain_text("spot 41")
        page.evaluate("window.__noReload = true")
        page.fill("#memory-query", "where did I leave my vehicle")
        first = page.locator("#memory-results .memory-hit").first
        expect(first).to_contain_text("spot 41")

        okafor = page.locator(".memory-message", has_text="Okafor")
        okafor.get_by_role("button", name="Disable").click()
        expect(page.locator(".memory-message", has_text="Okafor")).to_contain_text("disabled")
        page.locator(".memory-message", has_text="Okafor").get_by_role(
            "button", name="Forget"
        ).click()
        expect(page.locator(".memory-message", has_text="Okafor")).to_contain_text("forgotten")
        assert page.evaluate("window.__noReload") is True

        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.on("dialog", lambda dialog: dialog.accept())
        page.locator(".search-settings summary").click()
        page.get_by_role("button", name="Delete this memory", exact=True).click()
        page.wait_for_url(f"{live_server_url}/memory/")
        expect(page.locator("#memories")).not_to_contain_text("Errands")
        expect(page.locator("#memories")).to_contain_text("Trip notes")
