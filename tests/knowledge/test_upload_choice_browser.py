"""In a real browser (Debian's Chromium, Playwright, live Daphne with a real worker): "Parse
after upload" stays as the user left it, after an HTMX upload and after a reload, and the
"parsing has started" notices go once those documents are parsed (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.test_browser import CHROMIUM, browser_page, snapshot, text_file

PASSWORD = "uma-password-1"
TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def uma(transactional_db: None, settings: Any) -> User:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    return User.objects.create_user("uma", "uma@example.com", PASSWORD)


def test_the_parse_box_keeps_its_choice_and_parse_notices_clear_when_done(
    live_server_url: str, uma: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = dataset_create(tenant=uma, name="Walrus notes")
    with browser_page(tmp_path) as page:
        page.goto(f"{live_server_url}/accounts/login/")
        page.fill("#id_username", "uma")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        box = page.get_by_label("Parse after upload")
        expect(box).to_be_checked()

        box.uncheck()
        page.set_input_files("#upload-form input[type=file]", files=[text_file("a.txt", TEXT)])
        rows = page.locator("#document-rows tr.document-row")
        expect(rows).to_have_count(1)
        expect(page.locator("#upload-form .alert--success")).to_have_text("Uploaded 1 file.")
        expect(box).not_to_be_checked()
        page.reload()
        expect(box).not_to_be_checked()

        # Ticked again: the upload parses, and its notice goes when the parse is done.
        box.check()
        page.set_input_files("#upload-form input[type=file]", files=[text_file("b.txt", TEXT)])
        expect(rows).to_have_count(2)
        notice = page.locator("#upload-form .alert--success")
        expect(notice).to_have_text("Uploaded 1 file. Parsing has started.")
        expect(box).to_be_checked()
        b_row = page.locator("tr.document-row", has_text="b.txt")
        # The worker may load the embedding model on its first parse, hence the long wait.
        expect(b_row.locator(".badge")).to_have_text("Done", timeout=90_000)
        expect(notice).to_have_count(0)

        # "Queued N documents for parsing." goes the same way.
        a_row = page.locator("tr.document-row", has_text="a.txt")
        a_row.locator("input[name=ids]").check()
        page.get_by_role("button", name="Parse selected").click()
        queued = page.locator("#document-messages .alert")
        expect(queued).to_have_text("Queued 1 document for parsing.")
        snapshot(page, "upload-parse-queued")
        expect(a_row.locator(".badge")).to_have_text("Done", timeout=60_000)
        expect(queued).to_have_count(0)
        page.reload()
        expect(box).to_be_checked()
