"""The Files page in a real browser (Debian's Chromium, Playwright, live Daphne): upload, new
folder, breadcrumbs, rename, move, link to a knowledge base and delete, all without a reload;
and the page fits a 390 px phone with a file's actions open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from knowledge.models import Document, File
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.test_browser import CHROMIUM, browser_page, snapshot, text_file

PASSWORD = "fay-password-1"
TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def fay(transactional_db: None, settings: Any) -> dict[str, Any]:
    # Everything is created before Playwright starts (its event loop forbids sync ORM calls).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = User.objects.create_user("fay", "fay@example.com", PASSWORD)
    dataset = dataset_create(tenant=user, name="Walrus notes")
    return {"user": user, "dataset": dataset}


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", "fay")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def row(page: Any, name: str) -> Any:
    return page.locator(f'.file-row[data-file-name="{name}"]')


def test_files_page_upload_folders_move_link_delete(
    live_server_url: str, fay: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.get_by_role("link", name="Files", exact=True).click()
        page.wait_for_url(f"{live_server_url}/files/")
        expect(page.locator(".file-browser__empty")).to_be_visible()
        # A marker the page keeps only if no full reload happens.
        page.evaluate("window.__noReload = true")

        page.set_input_files("#file-upload", files=[text_file("facts.txt", TEXT)])
        page.get_by_role("button", name="Upload", exact=True).click()
        expect(page.locator(".alert--success")).to_have_text("Uploaded 1 file(s).")
        expect(row(page, "facts.txt")).to_be_visible()

        page.fill("#new-folder-name", "Reports")
        page.get_by_role("button", name="Create folder", exact=True).click()
        expect(row(page, "Reports")).to_be_visible()

        # Rename, then move the file into the folder.
        facts = row(page, "facts.txt")
        facts.locator("summary").click()
        facts.get_by_label("Rename").fill("walrus.txt")
        facts.get_by_role("button", name="Rename", exact=True).click()
        expect(row(page, "walrus.txt")).to_be_visible()
        walrus = row(page, "walrus.txt")
        walrus.locator("summary").click()
        walrus.get_by_label("Move to").select_option(label="/Reports")
        walrus.get_by_role("button", name="Move", exact=True).click()
        expect(row(page, "walrus.txt")).to_have_count(0)

        # Into the folder by its link; the breadcrumb leads back.
        row(page, "Reports").get_by_role("link", name="Reports").click()
        expect(page.locator(".file-crumbs [aria-current=page]")).to_have_text("Reports")
        page.wait_for_url(f"{live_server_url}/files/folders/**")
        walrus = row(page, "walrus.txt")
        expect(walrus).to_be_visible()

        # Link it to the knowledge base: a badge appears.
        walrus.locator("summary").click()
        walrus.get_by_label("Walrus notes").check()
        walrus.get_by_role("button", name="Save links", exact=True).click()
        expect(row(page, "walrus.txt").locator(".badge")).to_have_text("Walrus notes")
        snapshot(page, "files-linked")

        page.locator(".file-crumbs").get_by_role("link", name="All files").click()
        expect(row(page, "Reports")).to_be_visible()
        # Delete the folder (confirming), which takes the file and its document along.
        page.once("dialog", lambda dialog: dialog.accept())
        reports = row(page, "Reports")
        reports.locator("summary").click()
        reports.get_by_role("button", name="Delete").click()
        expect(row(page, "Reports")).to_have_count(0)
        expect(page.locator(".file-browser__empty")).to_be_visible()
        assert page.evaluate("window.__noReload") is True

    assert not File.objects.exclude(name="/").exists()
    assert not Document.objects.filter(dataset=fay["dataset"]).exists()


def test_files_page_fits_a_phone(live_server_url: str, fay: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    long_name = "walrus-" + "x" * 120 + ".txt"
    with browser_page(tmp_path, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/files/")
        page.set_input_files("#file-upload", files=[text_file(long_name, TEXT)])
        page.get_by_role("button", name="Upload", exact=True).click()
        entry = row(page, long_name)
        expect(entry).to_be_visible()
        entry.locator("summary").click()
        expect(entry.get_by_role("button", name="Save links", exact=True)).to_be_visible()
        page.fill("#new-folder-name", "A folder")
        page.get_by_role("button", name="Create folder", exact=True).click()
        expect(row(page, "A folder")).to_be_visible()
        row(page, long_name).locator("summary").click()
        snapshot(page, "phone-files")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
