"""HTML views: login, knowledge bases (full page and HTMX fragments), API keys, settings, i18n."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.urls import reverse

from knowledge.models import Dataset
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import ApiKey, User
from ragsite.accounts.services import api_key_create

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


def make_dataset(owner: User, name: str = "handbook", **kwargs: Any) -> Dataset:
    return dataset_create(tenant=owner, name=name, **kwargs)


def create_form(**overrides: str) -> dict[str, str]:
    return {
        "name": "Product manuals",
        "description": "PDF manuals for every product",
        "chunk_method": "manual",
        "embedding_model": "sentence-transformers/all-MiniLM-L6-v2@Builtin",
        "permission": "me",
        **overrides,
    }


def edit_form(dataset: Dataset, **overrides: str) -> dict[str, str]:
    values = {
        "name": dataset.name,
        "description": dataset.description or "",
        "chunk_method": dataset.chunk_method,
        "embedding_model": dataset.embedding_model,
        "permission": dataset.permission,
        **overrides,
    }
    return {f"edit-{dataset.pk}-{key}": value for key, value in values.items()}


# --- login -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/keys/", "/settings/", "/chats/", "/agents/", "/accounts/password/"]
)
def test_pages_redirect_anonymous_users_to_login(client: Client, db: None, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_htmx_request_after_logout_redirects_the_whole_page_to_login(
    client: Client, tenant: User
) -> None:
    dataset = make_dataset(tenant)
    response = client.get(
        reverse("knowledge:edit_dataset", args=[dataset.pk]),
        headers={**HTMX, "HX-Current-URL": "http://testserver/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/"
    assert response.content == b""


def test_login_form_logs_in_and_lands_on_knowledge_bases(client: Client, tenant: User) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content

    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "alice-password-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Knowledge bases" in response.content
    assert b"alice" in response.content


def test_logout_is_a_post_form_in_the_header(alice: Client) -> None:
    page = alice.get("/").content.decode()
    assert f'action="{reverse("logout")}"' in page

    response = alice.post(reverse("logout"))
    assert response.status_code == 302
    assert alice.get("/").status_code == 302


def test_nav_shows_admin_link_to_staff_only(alice: Client, tenant: User) -> None:
    assert b'href="/admin/"' not in alice.get("/").content
    tenant.is_staff = True
    tenant.save()
    assert b'href="/admin/"' in alice.get("/").content


# --- knowledge bases: list ----------------------------------------------------------------


def test_dataset_list_shows_own_datasets_and_hides_others(
    alice: Client, tenant: User, other_tenant: User
) -> None:
    make_dataset(tenant, "alice-handbook", description="Onboarding notes")
    make_dataset(other_tenant, "charlie-secrets", permission="team")

    page = alice.get("/").content.decode()

    assert "alice-handbook" in page
    assert "Onboarding notes" in page
    assert "General" in page  # the chunk method's label
    assert "all-MiniLM-L6-v2" in page
    assert "Only me" in page
    assert "charlie-secrets" not in page


def test_dataset_list_shows_team_datasets_read_only_with_owner(
    alice: Client, tenant: User, other_tenant: User
) -> None:
    team = Group.objects.create(name="support")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    shared = make_dataset(other_tenant, "team-faq", permission="team")
    private = make_dataset(other_tenant, "charlie-private")

    page = alice.get("/").content.decode()

    assert "team-faq" in page
    assert "Shared by charlie" in page
    assert "charlie-private" not in page
    assert reverse("knowledge:edit_dataset", args=[shared.pk]) not in page
    assert reverse("knowledge:delete_dataset", args=[shared.pk]) not in page
    assert private.pk not in page


def test_dataset_list_shows_empty_state_and_open_create_form(alice: Client) -> None:
    page = alice.get("/").content.decode()
    assert "No knowledge bases yet" in page
    assert 'id="create-dataset-form"' in page


# --- knowledge bases: create -------------------------------------------------------------


def test_create_dataset_with_htmx_returns_form_and_row_fragment(
    alice: Client, tenant: User
) -> None:
    response = alice.post(reverse("knowledge:create_dataset"), create_form(), headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    dataset = Dataset.objects.get(tenant=tenant)
    assert dataset.name == "Product manuals"
    assert dataset.chunk_method == "manual"
    assert dataset.description == "PDF manuals for every product"
    assert f'id="dataset-{dataset.pk}"' in body
    assert 'hx-swap-oob="afterbegin:#dataset-list"' in body
    assert 'id="create-dataset-form"' in body  # the form comes back empty for the next one


def test_create_dataset_without_htmx_redirects_to_the_list(alice: Client, tenant: User) -> None:
    response = alice.post(reverse("knowledge:create_dataset"), create_form(), follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert "Knowledge base “Product manuals” created." in response.content.decode()
    assert Dataset.objects.filter(tenant=tenant).count() == 1


def test_create_dataset_duplicate_name_gets_a_suffix(alice: Client, tenant: User) -> None:
    make_dataset(tenant, "Product manuals")
    alice.post(reverse("knowledge:create_dataset"), create_form(), headers=HTMX)
    names = set(Dataset.objects.filter(tenant=tenant).values_list("name", flat=True))
    assert names == {"Product manuals", "Product manuals(1)"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("a" * 129, "The name is too long: at most 128 bytes"),
        ("知" * 43, "this one has 129"),
    ],
)
def test_create_dataset_with_bad_name_shows_error_inline_and_creates_nothing(
    alice: Client, name: str, message: str
) -> None:
    response = alice.post(reverse("knowledge:create_dataset"), create_form(name=name), headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="create-dataset-form"' in body
    assert message in body
    assert 'aria-invalid="true"' in body
    assert "hx-swap-oob" not in body
    assert not Dataset.objects.exists()


def test_create_dataset_service_error_is_shown_on_the_form(
    alice: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.views import datasets as views
    from ragsite.api.errors import DataError

    def refuse(**kwargs: Any) -> Dataset:
        raise DataError("Too many datasets named 'Product manuals'")

    monkeypatch.setattr(views, "dataset_create", refuse)
    response = alice.post(reverse("knowledge:create_dataset"), create_form(), headers=HTMX)

    assert "Too many datasets named" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not Dataset.objects.exists()


def test_create_dataset_rejects_unknown_chunk_method(alice: Client) -> None:
    response = alice.post(
        reverse("knowledge:create_dataset"), create_form(chunk_method="magic"), headers=HTMX
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Dataset.objects.exists()


def test_create_dataset_requires_post(alice: Client) -> None:
    assert alice.get(reverse("knowledge:create_dataset")).status_code == 405


# --- knowledge bases: edit and delete --------------------------------------------------------


def test_edit_dataset_with_htmx_returns_the_edit_form_fragment(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.get(reverse("knowledge:edit_dataset", args=[dataset.pk]), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f'id="dataset-{dataset.pk}"' in body
    assert f'name="edit-{dataset.pk}-name"' in body
    assert 'value="handbook"' in body


def test_edit_dataset_without_htmx_is_a_full_page(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.get(reverse("knowledge:edit_dataset", args=[dataset.pk]))
    assert b"<html" in response.content
    assert f'name="edit-{dataset.pk}-name"'.encode() in response.content


def test_edit_dataset_saves_and_swaps_the_row_back(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.post(
        reverse("knowledge:edit_dataset", args=[dataset.pk]),
        edit_form(dataset, name="Staff handbook", description="v2", permission="team"),
        headers=HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Staff handbook" in body
    assert f'name="edit-{dataset.pk}-name"' not in body  # back to the read-only card
    dataset.refresh_from_db()
    assert (dataset.name, dataset.description, dataset.permission) == (
        "Staff handbook",
        "v2",
        "team",
    )


def test_edit_dataset_keeps_parser_config_when_chunk_method_is_unchanged(
    alice: Client, tenant: User
) -> None:
    dataset = make_dataset(tenant)
    Dataset.objects.filter(pk=dataset.pk).update(
        parser_config={**dataset.parser_config, "chunk_token_num": 99}
    )
    dataset.refresh_from_db()
    alice.post(
        reverse("knowledge:edit_dataset", args=[dataset.pk]),
        edit_form(dataset, description="only this"),
        headers=HTMX,
    )
    dataset.refresh_from_db()
    assert dataset.parser_config["chunk_token_num"] == 99


def test_edit_dataset_duplicate_name_shows_service_message_inline(
    alice: Client, tenant: User
) -> None:
    make_dataset(tenant, "taken")
    dataset = make_dataset(tenant, "mine")
    response = alice.post(
        reverse("knowledge:edit_dataset", args=[dataset.pk]),
        edit_form(dataset, name="TAKEN"),
        headers=HTMX,
    )

    body = response.content.decode()
    assert "Dataset name &#x27;TAKEN&#x27; already exists" in body
    assert f'name="edit-{dataset.pk}-name"' in body
    dataset.refresh_from_db()
    assert dataset.name == "mine"


def test_edit_dataset_empty_name_shows_error_inline(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.post(
        reverse("knowledge:edit_dataset", args=[dataset.pk]),
        edit_form(dataset, name=""),
        headers=HTMX,
    )
    assert "This field is required." in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.name == "handbook"


def test_dataset_row_returns_the_read_only_card(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.get(reverse("knowledge:dataset_row", args=[dataset.pk]), headers=HTMX)
    body = response.content.decode()
    assert f'id="dataset-{dataset.pk}"' in body
    assert "<form" in body and "edit-" not in body


def test_delete_dataset_with_htmx_removes_it(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.post(reverse("knowledge:delete_dataset", args=[dataset.pk]), headers=HTMX)
    assert response.status_code == 200
    assert response.content == b""
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_delete_dataset_without_htmx_redirects(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    response = alice.post(reverse("knowledge:delete_dataset", args=[dataset.pk]))
    assert response.status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_delete_dataset_requires_post(alice: Client, tenant: User) -> None:
    dataset = make_dataset(tenant)
    assert alice.get(reverse("knowledge:delete_dataset", args=[dataset.pk])).status_code == 405
    assert Dataset.objects.filter(pk=dataset.pk).exists()


@pytest.mark.parametrize("permission", ["me", "team"])
def test_other_users_dataset_is_404_for_row_edit_and_delete(
    alice: Client, tenant: User, other_tenant: User, permission: str
) -> None:
    team = Group.objects.create(name="support")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    theirs = make_dataset(other_tenant, "theirs", permission=permission)

    row = alice.get(reverse("knowledge:dataset_row", args=[theirs.pk]), headers=HTMX)
    edit_page = alice.get(reverse("knowledge:edit_dataset", args=[theirs.pk]), headers=HTMX)
    edit = alice.post(
        reverse("knowledge:edit_dataset", args=[theirs.pk]),
        edit_form(theirs, name="hijacked"),
        headers=HTMX,
    )
    delete = alice.post(reverse("knowledge:delete_dataset", args=[theirs.pk]), headers=HTMX)

    assert [r.status_code for r in (row, edit_page, edit, delete)] == [404, 404, 404, 404]
    theirs.refresh_from_db()
    assert theirs.name == "theirs"


# --- API keys -------------------------------------------------------------------------------------


def test_api_keys_page_lists_only_own_keys(alice: Client, tenant: User, other_tenant: User) -> None:
    mine, _ = api_key_create(user=tenant, name="laptop")
    theirs, _ = api_key_create(user=other_tenant, name="charlie-ci")

    page = alice.get("/keys/").content.decode()

    assert "laptop" in page
    assert f"{mine.prefix}…" in page
    assert "Never" in page
    assert "Active" in page
    assert "charlie-ci" not in page
    assert theirs.prefix not in page


def test_create_api_key_shows_the_key_once_and_stores_only_its_digest(
    alice: Client, tenant: User
) -> None:
    response = alice.post(reverse("accounts:create_api_key"), {"name": "notebook"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(user=tenant)
    assert key.name == "notebook"
    raw_key = body.split('id="new-api-key"')[1].split(">")[1].split("<")[0]
    assert raw_key.startswith("ragflow-")
    assert raw_key.startswith(key.prefix)
    assert len(raw_key) > len(key.prefix) + 20
    assert "will not be shown again" in body

    # Nowhere in the database, sessions included, does the clear key appear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, prefix, digest FROM accounts_apikey")
        rows = cursor.fetchall()
        cursor.execute("SELECT session_data FROM django_session")
        sessions = cursor.fetchall()
    assert raw_key not in repr(rows)
    assert raw_key not in repr(sessions)

    again = alice.get("/keys/").content.decode()
    assert raw_key not in again
    assert 'id="new-api-key"' not in again
    assert f"{key.prefix}…" in again


def test_create_api_key_without_name_or_htmx_renders_the_full_page(
    alice: Client, tenant: User
) -> None:
    response = alice.post(reverse("accounts:create_api_key"), {"name": ""})
    assert response.status_code == 200
    assert b"<html" in response.content
    assert b'id="new-api-key"' in response.content
    assert ApiKey.objects.filter(user=tenant, name="").count() == 1


def test_create_api_key_rejects_an_overlong_name(alice: Client, tenant: User) -> None:
    response = alice.post(reverse("accounts:create_api_key"), {"name": "x" * 101}, headers=HTMX)
    assert "at most 100 characters" in response.content.decode()
    assert 'id="new-api-key"' not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoke_api_key_marks_it_revoked(alice: Client, tenant: User) -> None:
    key, _ = api_key_create(user=tenant, name="old")
    response = alice.post(reverse("accounts:revoke_api_key", args=[key.pk]), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="api-key-{key.pk}"')
    assert "Revoked" in body
    key.refresh_from_db()
    assert key.revoked_at is not None

    # Revoking twice is harmless.
    assert alice.post(reverse("accounts:revoke_api_key", args=[key.pk])).status_code == 302


def test_revoke_other_users_api_key_is_404(alice: Client, other_tenant: User) -> None:
    theirs, _ = api_key_create(user=other_tenant, name="charlie-ci")
    response = alice.post(reverse("accounts:revoke_api_key", args=[theirs.pk]), headers=HTMX)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# --- settings, chats, agents ------------------------------------------------------------------


def test_settings_page_shows_account_teams_and_api_base_url(alice: Client, tenant: User) -> None:
    tenant.groups.add(Group.objects.create(name="support"))
    page = alice.get("/settings/").content.decode()

    assert "alice@example.com" in page
    assert "support" in page
    assert reverse("password_change") in page
    assert "http://testserver" in page
    assert "from ragflow_sdk import RAGFlow" in page
    assert reverse("set_language") in page


def test_password_change_page_renders_with_site_layout(alice: Client) -> None:
    page = alice.get("/accounts/password/").content.decode()
    assert 'name="old_password"' in page
    assert "Change password" in page


# --- language -----------------------------------------------------------------------------------


def test_language_switch_to_chinese_translates_the_nav(alice: Client) -> None:
    response = alice.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302

    page = alice.get("/").content.decode()

    assert '<html lang="zh-hans">' in page
    assert "知识库" in page
    assert "API 密钥" in page
    assert "设置" in page
    assert "退出登录" in page


def test_browser_language_picks_chinese_by_default(alice: Client) -> None:
    page = alice.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "知识库" in page


def test_chinese_form_errors_are_translated(alice: Client) -> None:
    alice.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    response = alice.post(
        reverse("knowledge:create_dataset"), create_form(name="a" * 200), headers=HTMX
    )
    assert "名称太长" in response.content.decode()


def test_dataset_names_are_escaped_everywhere_including_confirm_prompts(
    alice: Client, tenant: User
) -> None:
    make_dataset(tenant, 'x" onmouseover="alert(1)<b>')
    page = alice.get("/").content.decode()
    assert "<b>" not in page
    assert 'x" onmouseover' not in page
    assert "x&quot; onmouseover=&quot;alert(1)&lt;b&gt;" in page
