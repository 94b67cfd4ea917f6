"""Django admin as ragsite's: its own name, Chinese when the admin speaks Chinese, every
model a site admin looks after on the index, and a model-provider add form without the
"remove the stored key" box (there is no stored key yet) (issue 17)."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ragsite.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-1"))
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_admin_is_branded_ragsite(root: Client) -> None:
    page = root.get(reverse("admin:index")).content.decode()
    assert "Django administration" not in page and "Django site admin" not in page
    assert re.search(r"<title>[^<]*ragsite[^<]*</title>", page)
    assert re.search(r'id="site-name"><a href="/admin/">ragsite administration</a>', page)
    login = Client().get(reverse("admin:login")).content.decode()
    assert "ragsite administration" in login and "Django" not in text_of(login)


def test_the_index_lists_chats_agents_and_their_sessions(root: Client) -> None:
    page = text_of(root.get(reverse("admin:index")).content.decode())
    for name in ("Chat assistants", "Chat sessions", "Agents", "Agent sessions",
                 "Knowledge bases", "Datasets", "Documents", "Model providers",
                 "Accounts and API keys", "API keys", "Users", "Groups"):  # fmt: skip
        assert name in page, name


def test_in_chinese_every_group_and_model_name_is_chinese(root: Client) -> None:
    root.cookies["django_language"] = "zh-hans"
    page = text_of(
        root.get(reverse("admin:index"), headers={"accept-language": "zh-hans"}).content.decode()
    )
    for name in ("ragsite 管理后台", "聊天助手", "聊天会话", "智能体", "智能体会话", "知识库",
                 "文本块", "文档", "模型供应商", "账户和 API 密钥", "API 密钥", "用户", "组",
                 "登录尝试", "模型名称"):  # fmt: skip
        assert name in page, name
    # Apart from product names (ragsite, API, django-axes), no Latin words are left.
    words = set(re.findall(r"[A-Za-z]{2,}", page)) - {"ragsite", "API", "django", "axes", "root"}
    assert not words, words


def test_the_add_form_for_a_model_provider_has_no_remove_key_box(root: Client) -> None:
    add = root.get(reverse("admin:knowledge_modelprovider_add")).content.decode()
    assert 'name="api_key"' in add
    assert "clear_api_key" not in add and "Remove the stored key" not in add
    assert "Leave empty to keep the current key" not in add
    created = root.post(
        reverse("admin:knowledge_modelprovider_add"),
        {
            "factory": "OpenAI-API-Compatible",
            "base_url": "http://127.0.0.1:11434/v1",
            "api_key": "sk-first",
            "embedding_models": "[]",
            "chat_models": '["llama3"]',
            "rerank_models": "[]",
            "timeout_seconds": "60",
            "enabled": "on",
        },  # fmt: skip
    )
    assert created.status_code == 302, text_of(created.content.decode())[:2000]
    from knowledge.models import ModelProvider

    provider = ModelProvider.objects.get()
    assert provider.api_key == "sk-first"
    change = root.get(reverse("admin:knowledge_modelprovider_change", args=[provider.pk]))
    html = change.content.decode()
    assert "clear_api_key" in html and "Leave empty to keep the current key" in html
    assert "sk-first" not in html


def test_the_committed_chinese_catalog_is_compiled_from_the_current_po(tmp_path: Path) -> None:
    """A clean clone uses the committed .mo (nothing compiles messages at install), so it
    must hold every translation of the .po."""
    if not shutil.which("msgfmt"):
        pytest.skip("needs gettext's msgfmt")
    messages = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(messages / "django.po")], check=True)

    def catalog(path: Path) -> dict[Any, Any]:
        with path.open("rb") as handle:
            return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]

    assert catalog(messages / "django.mo") == catalog(fresh)
