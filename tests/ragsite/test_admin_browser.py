"""The admin as ragsite's in a real browser (Debian's Chromium, Playwright, live Daphne): its
header and title, in English and, for a Chinese browser, in Chinese; chats, agents and their
sessions on the index; a model provider's add form without the "remove the stored key" box
(issue 17)."""

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


def log_in(page: Any, base_url: str) -> None:
    page.fill("#id_username", "rootadmin")
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()


@pytest.mark.parametrize(
    ("locale", "header", "models"),
    [
        (
            "en-US",
            "ragsite administration",
            ["Chat assistants", "Chat sessions", "Agents", "Agent sessions", "Model providers"],
        ),
        (
            "zh-CN",
            "ragsite 管理后台",
            ["聊天助手", "聊天会话", "智能体", "智能体会话", "模型供应商"],
        ),
    ],
)
def test_the_admin_header_says_ragsite(
    live_server_url: str,
    admin_user: User,
    tmp_path: Path,
    locale: str,
    header: str,
    models: list[str],
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, locale=locale) as page:
        page.goto(f"{live_server_url}/admin/")
        expect(page.locator("#site-name")).to_have_text(header)
        log_in(page, live_server_url)
        expect(page.locator("#site-name")).to_have_text(header)
        assert "Django" not in page.title() and "ragsite" in page.title()
        index = page.locator("#content-main")
        for name in models:  # each a model's row of the index, with its link
            row = index.locator("th[scope=row]").get_by_role("link", name=name, exact=True)
            expect(row).to_be_visible()
        if locale == "zh-CN":
            expect(index).not_to_contain_text("Chat")
            expect(index).not_to_contain_text("Agent")


def test_a_model_provider_is_added_without_a_remove_key_box(
    live_server_url: str, admin_user: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from knowledge.models import ModelProvider

    with browser_page(tmp_path) as page:
        page.goto(f"{live_server_url}/admin/")
        log_in(page, live_server_url)
        page.locator("#content-main").get_by_role(
            "link", name="Model providers", exact=True
        ).click()
        page.locator(".object-tools").get_by_role("link").first.click()  # "Add model provider"
        expect(page.locator("input[name=api_key]")).to_be_visible()
        expect(page.locator("input[name=clear_api_key]")).to_have_count(0)
        expect(page.locator("#modelprovider_form")).not_to_contain_text("Remove the stored key")
        page.fill("input[name=factory]", "OpenAI-API-Compatible")
        page.fill("input[name=base_url]", "http://127.0.0.1:11434/v1")
        page.fill("input[name=api_key]", "sk-first")
        page.fill("[name=chat_models]", "llama3")
        page.locator("input[name=_continue]").click()  # Save and continue editing
        expect(page.locator(".messagelist")).to_be_visible()
        # Once a key is stored, the change form offers to remove it.
        expect(page.locator("input[name=clear_api_key]")).to_have_count(1)
        assert "sk-first" not in page.content()
    provider = ModelProvider.objects.get()
    assert provider.api_key == "sk-first" and provider.chat_model_names() == ["llama3"]
