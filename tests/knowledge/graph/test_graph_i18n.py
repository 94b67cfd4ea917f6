"""The graph page and the enrichment panel's graph and RAPTOR settings in Chinese."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests.graph_llm import register
from tests.helpers import assert_ok
from tests.knowledge.graph.corpus import GRAPH_CONFIG, parsed_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """The locale middleware leaves the thread's language as the last request asked (zh),
    which later tests' task logs would be written in."""
    yield
    translation.deactivate()


def test_the_graph_page_and_settings_read_in_chinese(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    register(llm_server)
    browser = Client()
    browser.force_login(tenant)
    empty = parsed_lines(tenant, django_capture_on_commit_callbacks, name="empty")
    page = browser.get(f"/datasets/{empty.pk}/graph/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "此知识库还没有知识图谱。" in html and "构建知识图谱" in html
    assert "This knowledge base has no knowledge graph yet." not in html

    dataset = parsed_lines(tenant, django_capture_on_commit_callbacks, **GRAPH_CONFIG)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_graphrag"))
    html = browser.get(
        f"/datasets/{dataset.pk}/graph/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for text in ("实体与关系", "查找实体", "重新构建知识图谱", "个实体，", "条关系。"):
        assert text in html, text
    assert "Entities and relations" not in html

    html = browser.get(f"/datasets/{dataset.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("知识图谱设置", "知识图谱方法", "实体类型", "实体消歧", "社区报告", "RAPTOR 范围"):
        assert text in html, text
    assert "Knowledge graph settings" not in html
