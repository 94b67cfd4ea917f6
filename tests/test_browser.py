"""The HTMX pages in a real browser: Debian's Chromium driven by Playwright against live Daphne.

Set RAGSITE_SCREENSHOTS=<dir> to keep screenshots of each step (useful when changing the design).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from ragsite.accounts.models import User

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
PASSWORD = "bob-password-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium fonts-wqy-microhei)",
    ),
]


@pytest.fixture
def bob(transactional_db: None, settings: Any) -> User:
    # The live server checks passwords with the real hashers, not the tests' fast MD5 one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # Created before Playwright starts: its event loop makes later sync ORM calls in this
    # thread raise SynchronousOnlyOperation.
    return User.objects.create_user("bob", "bob@example.com", PASSWORD)


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


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_browser_creates_edits_and_deletes_a_dataset_without_reloading(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        expect(page.locator("h1")).to_have_text("Knowledge bases")
        expect(page.locator(".empty-state")).to_be_visible()
        snapshot(page, "datasets-empty")

        # A flag on window survives only if the page is never reloaded.
        page.evaluate("window.__sameDocument = true")
        form = page.locator("#create-dataset-form")
        form.locator("#id_name").fill("Field manuals")
        form.locator("#id_description").fill("Service manuals for every device we sell.")
        form.locator("#id_chunk_method").select_option("manual")
        form.get_by_role("button", name="Create knowledge base").click()

        card = page.locator("#dataset-list article", has_text="Field manuals")
        expect(card).to_be_visible()
        expect(card).to_contain_text("Manual")
        expect(card).to_contain_text("Only me")
        expect(page.locator(".empty-state")).to_be_hidden()
        expect(page.locator("#create-dataset-form #id_name")).to_have_value("")
        expect(page.locator("#create-dataset-form [role=status]")).to_contain_text("Field manuals")
        assert page.evaluate("window.__sameDocument") is True

        # An invalid name: the error shows inline and no card appears.
        page.locator("#create-dataset-form #id_name").fill("x" * 130)
        page.get_by_role("button", name="Create knowledge base").click()
        expect(page.locator("#create-dataset-form .errorlist")).to_contain_text("too long")
        expect(page.locator("#dataset-list article")).to_have_count(1)
        snapshot(page, "datasets-one")

        # Edit in place.
        card.get_by_role("link", name="Edit").click()
        editing = page.locator("#dataset-list article.is-editing")
        editing.get_by_label("Name").fill("Field manuals 2026")
        editing.get_by_role("button", name="Save").click()
        expect(page.locator("#dataset-list article", has_text="Field manuals 2026")).to_be_visible()
        expect(page.locator("#dataset-list article.is-editing")).to_have_count(0)

        # Delete after confirming; the card goes and the empty state comes back.
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#dataset-list article").get_by_role("button", name="Delete").click()
        expect(page.locator("#dataset-list article")).to_have_count(0)
        expect(page.locator(".empty-state")).to_be_visible()
        assert page.evaluate("window.__sameDocument") is True

        # A request that fails (here: deleted meanwhile in another tab) says so instead of
        # silently doing nothing.
        page.locator("#create-dataset-form #id_name").fill("Short-lived")
        page.get_by_role("button", name="Create knowledge base").click()
        expect(page.locator("#dataset-list article")).to_have_count(1)
        other_tab = page.context.new_page()
        other_tab.goto(f"{live_server_url}/")
        other_tab.once("dialog", lambda dialog: dialog.accept())
        other_tab.get_by_role("button", name="Delete").click()
        expect(other_tab.locator("#dataset-list article")).to_have_count(0)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        expect(page.locator("#request-errors")).to_contain_text("Reload the page")


def test_browser_shows_a_new_api_key_once_and_revokes_it(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, permissions=["clipboard-read", "clipboard-write"]) as page:
        log_in(page, live_server_url)
        page.get_by_role("navigation").get_by_role("link", name="API keys").click()
        page.wait_for_url(f"{live_server_url}/keys/")
        expect(page.locator(".empty-state")).to_contain_text("no API keys")

        page.evaluate("window.__sameDocument = true")
        page.get_by_label("Name (optional)").fill("notebook")
        page.get_by_role("button", name="Create key").click()

        new_key = page.locator("#new-api-key")
        expect(new_key).to_have_text(re.compile(r"^ragflow-\S+$"))
        raw_key = new_key.inner_text()
        assert len(raw_key) > 30
        expect(page.locator(".new-key")).to_contain_text("will not be shown again")
        assert page.evaluate("window.__sameDocument") is True
        row = page.locator("tr", has_text="notebook")
        expect(row).to_contain_text(raw_key[:14] + "…")
        expect(row).to_contain_text("Active")

        # Focus lands on the Copy button, so Enter copies.
        expect(page.get_by_role("button", name="Copy")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Copied!")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == raw_key
        snapshot(page, "api-key-created")

        # Once only: a reload shows the prefix, never the key.
        page.reload()
        expect(page.locator("#new-api-key")).to_have_count(0)
        assert raw_key not in page.content()
        expect(page.locator("tr", has_text="notebook")).to_contain_text(raw_key[:14])

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("tr", has_text="notebook").get_by_role("button", name="Revoke").click()
        expect(page.locator("tr", has_text="notebook")).to_contain_text("Revoked")


def test_browser_follows_the_browser_language_and_the_switcher(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, locale="zh-CN") as page:
        page.goto(f"{live_server_url}/accounts/login/")
        expect(page.locator("h1")).to_have_text("登录 ragsite")
        page.fill("#id_username", "bob")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        expect(page.locator("h1")).to_have_text("知识库")
        snapshot(page, "datasets-zh")

        page.locator(".site-header").get_by_role("button", name="English").click()
        expect(page.locator("h1")).to_have_text("Knowledge bases")
        expect(page.locator("html")).to_have_attribute("lang", "en")
