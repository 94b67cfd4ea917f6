"""API keys carry the RAGFlow API generation of their clients (v0.22 or v0.27)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory
from django.urls import reverse

from ragsite.accounts.models import ApiKey, User
from ragsite.accounts.services import api_key_create
from ragsite.api.generation import generation_of


@pytest.mark.django_db
def test_new_keys_default_to_v027_and_the_command_takes_a_generation(tenant: User) -> None:
    key, _raw = api_key_create(user=tenant)
    assert key.generation == "v0.27"
    for generation in ("v0.22", "v0.27"):
        out = io.StringIO()
        call_command("create_api_key", tenant.username, "--generation", generation, stdout=out)
        raw = out.getvalue().strip().splitlines()[-1]
        assert raw.startswith("ragflow-")
        assert ApiKey.objects.order_by("-created_at", "-pk").first().generation == generation


@pytest.mark.django_db
def test_the_keys_page_lets_people_choose_the_generation(client: Client, tenant: User) -> None:
    client.force_login(tenant)
    page = client.get(reverse("accounts:api_keys")).content.decode()
    assert 'name="generation"' in page and "ragflow-sdk 0.22" in page
    response = client.post(
        reverse("accounts:create_api_key"), {"name": "old script", "generation": "v0.22"}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(user=tenant, name="old script")
    assert key.generation == "v0.22"
    assert "RAGFlow v0.22" in response.content.decode()
    bad = client.post(reverse("accounts:create_api_key"), {"generation": "v9"})
    assert "Select a valid choice" in bad.content.decode()
    assert ApiKey.objects.filter(user=tenant).count() == 1


@pytest.mark.django_db
def test_header_then_signal_then_key_then_default(tenant: User, settings) -> None:
    request = RequestFactory().get("/api/v1/chats")
    settings.RAGSITE_DEFAULT_GENERATION = "v0.22"
    assert generation_of(request) == "v0.22"
    request.api_key, _ = api_key_create(user=tenant, generation="v0.27")
    assert generation_of(request) == "v0.27"
    assert generation_of(request, signal="v0.22") == "v0.22"
    request.META["HTTP_X_RAGSITE_GENERATION"] = "V0.22"
    assert generation_of(request, signal="v0.27") == "v0.22"


@pytest.mark.django_db(transaction=True)
def test_keys_made_before_generations_existed_stay_v022() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (id, password, is_superuser, username, first_name,"
            " last_name, email, is_staff, is_active, date_joined)"
            " VALUES ('u1', '', false, 'old', '', '', '', false, true, now())"
        )
        cursor.execute(
            "INSERT INTO accounts_apikey (user_id, name, prefix, digest, created_at)"
            " VALUES ('u1', 'old', 'ragflow-old', 'd1', now())"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert ApiKey.objects.get(digest="d1").generation == "v0.22"
    assert api_key_create(user=User.objects.get(pk="u1"))[0].generation == "v0.27"
