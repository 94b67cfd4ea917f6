"""The Search page's views: search apps, instant results (HTMX fragment), the settings form and
the streamed summary."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from chat.models import SearchApp
from chat.services.searches import search_create
from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.chat.api.conftest import QUESTION, collect, facts  # noqa: F401
from tests.conftest import ApiClient


@pytest.fixture
def client_of(tenant: User) -> Client:
    client = Client()
    client.force_login(tenant)
    return client


@pytest.fixture
def app(tenant: User, facts: Dataset) -> SearchApp:  # noqa: F811
    return search_create(
        tenant=tenant,
        name="Walrus search",
        search_config={"kb_ids": [facts.pk], "highlight": True, "summary": True},
    )


def test_the_nav_links_the_search_page_and_it_creates_apps(client_of: Client) -> None:
    page = client_of.get("/search/")
    assert page.status_code == 200
    assert b'href="/search/" aria-current="page"' in page.content
    created = client_of.post("/search/", {"name": "Manuals"})
    app = SearchApp.objects.get(name="Manuals")
    assert created.status_code == 302 and created["Location"] == f"/search/{app.pk}/"
    assert b"Manuals" in client_of.get("/search/").content
    refused = client_of.post("/search/", {"name": "  "})
    assert refused.status_code == 200 and b"Give the search a name" in refused.content
    assert SearchApp.objects.count() == 1


def test_results_come_as_a_fragment_with_highlights_and_a_summary_url(
    client_of: Client, app: SearchApp
) -> None:
    response = client_of.get(
        f"/search/{app.pk}/results/", {"question": QUESTION}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "4312" in html and "<mark>" in html.lower()
    assert f'data-summary-url="/search/{app.pk}/summary/?question=' in html
    # Without JavaScript, the page itself shows the same results.
    page = client_of.get(f"/search/{app.pk}/", {"question": QUESTION}).content.decode()
    assert "<html" in page and "4312" in page and 'id="search-results"' in page


def test_highlight_and_summary_follow_the_settings(client_of: Client, app: SearchApp) -> None:
    app.search_config = {**app.search_config, "highlight": False, "summary": False}
    app.save()
    html = client_of.get(f"/search/{app.pk}/results/", {"question": QUESTION}).content.decode()
    assert "4312" in html and "<mark>" not in html.lower() and "data-summary-url" not in html
    empty = client_of.get(f"/search/{app.pk}/results/", {"question": " "}).content.decode()
    assert "results appear as you type" in empty


def test_the_summary_streams_as_the_api_does(client_of: Client, app: SearchApp) -> None:
    response = client_of.get(f"/search/{app.pk}/summary/", {"question": QUESTION})
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    events = [
        json.loads(block[len("data:") :])
        for block in collect(response).decode().split("\n\n")
        if block
    ]
    assert events[-1] == {"code": 0, "message": "", "data": True}
    assert events[-2]["data"]["final"] is True and events[-2]["data"]["reference"]["chunks"]
    assert "4312" in "".join(e["data"]["answer"] for e in events[:-2])


def test_the_pages_summary_ends_with_its_markdown_rendered(client_of: Client, tenant: User) -> None:
    dataset = dataset_create(tenant=tenant, name="marked")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="count.md", type="doc", suffix="md"
    )
    chunk_add(
        document=document,
        content="The census on Kolguev island counted **4312 walruses** in `2023`.",
    )
    app = search_create(
        tenant=tenant, name="Marked", search_config={"kb_ids": [dataset.pk], "summary": True}
    )
    response = client_of.get(f"/search/{app.pk}/summary/", {"question": QUESTION})
    events = [
        json.loads(block[len("data:") :])
        for block in collect(response).decode().split("\n\n")
        if block
    ]
    final = events[-2]["data"]
    streamed = "".join(e["data"]["answer"] for e in events[:-2])
    assert "**4312 walruses**" in streamed  # the stream is the API's text ...
    html = final["html"]  # ... and the end brings the page its HTML
    assert "<strong>4312 walruses</strong>" in html and "<code>2023</code>" in html
    assert "**" not in html and "[ID:" not in html


def test_the_apis_summary_has_no_html(api: ApiClient, app: SearchApp) -> None:
    response = api.post(f"/api/v1/searches/{app.pk}/completions", {"question": QUESTION})
    events = [
        json.loads(block[len("data:") :])
        for block in collect(response).decode().split("\n\n")
        if block
    ]
    assert events[-2]["data"]["final"] is True and "html" not in events[-2]["data"]


def test_settings_save_datasets_rerank_highlight_and_summary(
    client_of: Client, app: SearchApp, tenant: User
) -> None:
    other = dataset_create(tenant=tenant, name="other")
    response = client_of.post(
        f"/search/{app.pk}/settings/",
        {
            "name": "Renamed",
            "description": "d",
            "dataset_ids": [other.pk],
            "rerank_id": "",
            "summary": "on",
            "chat_id": "ragsite-extractive@Builtin",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.name == "Renamed" and app.search_config["kb_ids"] == [other.pk]
    assert app.search_config["highlight"] is False and app.search_config["summary"] is True
    assert app.search_config["rerank_id"] == "" and app.search_config["top_k"] == 1024


def test_settings_refuse_datasets_the_user_cannot_see(
    client_of: Client, app: SearchApp, other_tenant: User
) -> None:
    theirs = dataset_create(tenant=other_tenant, name="theirs")
    response = client_of.post(
        f"/search/{app.pk}/settings/",
        {"name": "x", "dataset_ids": [theirs.pk], "chat_id": "ragsite-extractive@Builtin"},
    )
    assert response.status_code == 400
    app.refresh_from_db()
    assert theirs.pk not in app.search_config["kb_ids"] and app.name == "Walrus search"


def test_another_users_app_is_not_found(app: SearchApp, other_tenant: User) -> None:
    client = Client()
    client.force_login(other_tenant)
    for url in (f"/search/{app.pk}/", f"/search/{app.pk}/results/?question=walrus"):
        assert client.get(url).status_code == 404
    assert client.post(f"/search/{app.pk}/settings/", {"name": "mine"}).status_code == 404
    assert client.post(f"/search/{app.pk}/delete/").status_code == 404
    assert client.get(f"/search/{app.pk}/summary/", {"question": "walrus"}).status_code == 404
    assert b"Walrus search" not in client.get("/search/").content
    assert SearchApp.objects.filter(pk=app.pk, name="Walrus search").exists()


def test_anonymous_visitors_are_sent_to_log_in(app: SearchApp) -> None:
    client = Client()
    assert client.get("/search/").status_code == 302
    assert client.get(f"/search/{app.pk}/summary/", {"question": "q"}).status_code == 403


def test_delete(client_of: Client, app: SearchApp) -> None:
    response = client_of.post(f"/search/{app.pk}/delete/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == "/search/"
    assert not SearchApp.objects.exists()


def test_the_search_page_speaks_chinese(client_of: Client, app: SearchApp) -> None:
    client_of.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "新建搜索应用" in client_of.get("/search/").content.decode()
    page = client_of.get(f"/search/{app.pk}/").content.decode()
    assert "高亮匹配" in page and "答案摘要" in page


def test_related_questions_and_mind_map_follow_the_settings(
    client_of: Client,
    app: SearchApp,
    facts: Dataset,  # noqa: F811
    tenant: User,
) -> None:
    document = facts.documents.get()
    chunk_add(
        document=document,
        content="Walrus surveys\nWalruses on Kolguev island are counted from the air each summer.",
        questions=["How are walruses counted from the air?"],
    )
    url = f"/search/{app.pk}/results/"
    html = client_of.get(url, {"question": QUESTION}).content.decode()
    assert "/related/" not in html and "/mindmap/" not in html
    app.search_config = {**app.search_config, "related_search": True, "query_mindmap": True}
    app.save()
    html = client_of.get(url, {"question": QUESTION}).content.decode()
    assert f"/search/{app.pk}/related/?question=" in html
    assert f"/search/{app.pk}/mindmap/?question=" in html
    related = client_of.get(f"/search/{app.pk}/related/", {"question": QUESTION}).content.decode()
    assert 'data-ask="How are walruses counted from the air?"' in related
    assert "Walrus surveys" in related
    tree = client_of.get(f"/search/{app.pk}/mindmap/", {"question": QUESTION}).content.decode()
    assert "facts.txt" in tree and "Walrus surveys" in tree
    stranger = Client()
    stranger.force_login(User.objects.create_user("eve", "eve@example.com", "pw-eve-123456"))
    assert stranger.get(f"/search/{app.pk}/related/", {"question": "q"}).status_code == 404
    assert stranger.get(f"/search/{app.pk}/mindmap/", {"question": "q"}).status_code == 404


def test_a_deleted_knowledge_base_is_explained(client_of: Client, app: SearchApp) -> None:
    Dataset.objects.filter(pk__in=app.search_config["kb_ids"]).delete()
    html = client_of.get(f"/search/{app.pk}/results/", {"question": QUESTION}).content.decode()
    assert "no longer available: check the settings" in html
