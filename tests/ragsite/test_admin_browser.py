"""The admin's ragsite header in a real browser (Debian's Chromium, Playwright, live Daphne),
in English and, for a Chinese browser, in Chinese (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from ragsite.accounts.models import User
from tests.test_browser import CHROMIUM, browser_page

PASSWORD = "root-password-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def admin_user(transactional_db: None, settings: Any) -> User:
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    return User.objects.create_superuser("rootadmin", "root@example.com", PASSWORD)


@pytest.mark.parametrize(
    ("locale", "header", "group"),
    [
        ("en-US", "ragsite administration", "Chat assistants"),
        ("zh-CN", "ragsite 管理后台", "聊天助手"),
    ],
)
def test_the_admin_header_says_ragsite(
    live_server_url: str, admin_user: User, tmp_path: Path, locale: str, header: str, group: str
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, locale=locale) as page:
        page.goto(f"{live_server_url}/admin/")
        expect(page.locator("#site-name")).to_have_text(header)
        page.fill("#id_username", "rootadmin")
        page.fill("#id_password", PASSWORD)
        page.locator("input[type=submit]").click()
        expect(page.locator("#site-name")).to_have_text(header)
        assert "Django" not in page.title() and "ragsite" in page.title()
        expect(page.locator("#content-main")).to_contain_text(group)
