"""The envelope, authentication quirks and routing errors under /api/v1 (contract §1)."""

from __future__ import annotations

import pytest
from django.test import Client

from ragsite.accounts.models import ApiKey
from ragsite.accounts.services import api_key_revoke
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of


@pytest.mark.django_db
def test_missing_authorization_answers_code_0_with_data_false() -> None:
    body = body_of(Client().get("/api/v1/datasets"))
    assert body == {"code": 0, "data": False, "message": "`Authorization` can't be empty"}


@pytest.mark.django_db
def test_authorization_with_one_token_asks_to_check_the_format() -> None:
    body = body_of(Client().get("/api/v1/datasets", headers={"Authorization": "ragflow-abc"}))
    assert body == {"code": 0, "data": False, "message": "Please check your authorization format."}


@pytest.mark.django_db
def test_unknown_key_is_refused_with_109() -> None:
    body = body_of(Client().get("/api/v1/datasets", headers={"Authorization": "Bearer nope"}))
    assert body == {
        "code": RetCode.AUTHENTICATION_ERROR,
        "data": False,
        "message": "Authentication error: API key is invalid!",
    }


def test_scheme_word_is_not_checked(api_key: str) -> None:
    response = Client().get("/api/v1/datasets", headers={"Authorization": f"Token {api_key}"})
    assert assert_ok(response) == []


def test_revoked_key_is_refused(tenant, api_key: str) -> None:
    key = ApiKey.objects.get(user=tenant)
    assert api_key_revoke(user=tenant, key_id=key.pk)
    response = Client().get("/api/v1/datasets", headers={"Authorization": f"Bearer {api_key}"})
    assert_error(response, RetCode.AUTHENTICATION_ERROR, "API key is invalid")


def test_key_use_is_recorded(tenant, api) -> None:
    assert ApiKey.objects.get(user=tenant).last_used_at is None
    assert_ok(api.get("/api/v1/datasets"))
    assert ApiKey.objects.get(user=tenant).last_used_at is not None


def test_key_is_stored_hashed(tenant, api_key: str) -> None:
    key = ApiKey.objects.get(user=tenant)
    assert api_key.startswith("ragflow-") and len(api_key) > 30
    assert api_key not in (key.digest, key.prefix) and api_key.startswith(key.prefix)


def test_key_lookup_loads_the_same_key_and_user_as_the_orm(tenant, api_key: str) -> None:
    from ragsite.accounts.services import api_key_authenticate

    api_key_authenticate(api_key)  # the first use is recorded: last_used_at changes
    key = api_key_authenticate(api_key)
    expected = ApiKey.objects.select_related("user").get(user=tenant)

    def fields(obj: object) -> dict[str, object]:
        return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}

    assert key is not None and fields(key) == fields(expected)
    assert key.last_used_at is not None
    assert fields(key.user) == fields(expected.user) and key.user.pk == tenant.pk
    assert not key._state.adding and key._state.db == "default"
    assert api_key_authenticate(api_key + "x") is None
    assert api_key_authenticate("") is None


def test_inactive_user_key_is_refused(tenant, api) -> None:
    tenant.is_active = False
    tenant.save()
    assert_error(api.get("/api/v1/datasets"), RetCode.AUTHENTICATION_ERROR)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nowhere", "/api/v1/datasets/x/y/z/w/v", "/api/v1/datasets//documents", "/api/v1/"],
)
@pytest.mark.django_db
def test_unknown_route_answers_code_100_not_found(path: str) -> None:
    body = body_of(Client().get(path))
    assert body == {"code": 100, "data": None, "message": "<NotFound '404: Not Found'>"}


def test_wrong_method_answers_code_100_method_not_allowed(api) -> None:
    body = body_of(api.client.patch("/api/v1/datasets", headers=api.headers))
    assert body == {
        "code": 100,
        "data": None,
        "message": "<MethodNotAllowed '405: Method Not Allowed'>",
    }


def test_trailing_slash_is_tolerated(api) -> None:
    assert assert_ok(api.get("/api/v1/datasets/")) == []


@pytest.mark.django_db
def test_cors_allows_every_origin() -> None:
    client = Client()
    preflight = client.options("/api/v1/datasets", headers={"Origin": "http://elsewhere.test"})
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "*"
    response = client.get("/api/v1/datasets")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_unexpected_exception_is_code_100_with_a_request_id_not_its_text(
    api, monkeypatch, caplog
) -> None:
    from knowledge.api import views

    def explode(**kwargs):
        raise LookupError("secret /var/run/postgresql detail")

    monkeypatch.setattr(views, "dataset_list", explode)
    body = body_of(api.get("/api/v1/datasets"))
    assert body["code"] == 100
    assert "LookupError" not in body["message"] and "secret" not in body["message"]
    request_id = body["message"].rsplit(" ", 1)[-1].rstrip(".")
    assert len(request_id) == 12
    # The log has the details under the same id.
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and "secret /var/run/postgresql detail" in str(logged[0].exc_info[1])


def test_success_without_data_has_only_code(api22, api) -> None:
    body = body_of(api22.delete("/api/v1/datasets", {"ids": []}))
    assert body == {"code": 0}
    # RAGFlow v0.27 reports the count.
    body = body_of(api.delete("/api/v1/datasets", {"ids": []}))
    assert body == {"code": 0, "data": {"success_count": 0}}
