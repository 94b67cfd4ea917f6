"""Datasets in both RAGFlow API generations (v0.27 contract §2.1, §3.2): the v0.22 paths and
bodies keep working, the v0.27 ones are added, and where identical requests need different
answers the key's generation decides."""

from __future__ import annotations

import uuid

import pytest

from knowledge.models import Dataset
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

URL = "/api/v1/datasets"


def create(api, **body):
    return assert_ok(api.post(URL, body))


# --- DELETE /datasets with delete_all -----------------------------------------------------------


def test_delete_with_delete_all_false_deletes_the_ids_and_counts_them(api, api22) -> None:
    # ragflow-sdk 0.27.3 `delete_datasets(ids=[...])` sends delete_all: false; the key alone
    # says v0.27, so even a v0.22 key gets the v0.27 answer.
    for client in (api, api22):
        one, two = create(client, name="one"), create(client, name="two")
        data = assert_ok(client.delete(URL, {"ids": [one["id"]], "delete_all": False}))
        assert data == {"success_count": 1}
        assert [d["id"] for d in assert_ok(client.get(URL))] == [two["id"]]
        client.delete(URL, {"ids": [two["id"]]})


def test_delete_all_true_deletes_every_own_dataset_and_nothing_else(api, other_api) -> None:
    create(api, name="one")
    create(api, name="two")
    theirs = create(other_api, name="theirs")
    assert assert_ok(api.delete(URL, {"ids": None, "delete_all": True})) == {"success_count": 2}
    assert assert_ok(api.get(URL)) == []
    assert [d["id"] for d in assert_ok(other_api.get(URL))] == [theirs["id"]]


@pytest.mark.parametrize(
    "body", [{"ids": None, "delete_all": False}, {"ids": [], "delete_all": False}, {}]
)
def test_delete_without_ids_deletes_nothing_in_v027(api, body) -> None:
    create(api, name="one")
    assert assert_ok(api.delete(URL, body)) == {"success_count": 0}
    assert Dataset.objects.count() == 1


def test_an_empty_delete_body_is_field_required_in_v022(api22) -> None:
    create(api22, name="one")
    assert_error(
        api22.delete(URL, {}), RetCode.ARGUMENT_ERROR, "Field: <ids> - Message: <Field required>"
    )
    assert Dataset.objects.count() == 1


def test_v022_delete_answers_without_data(api22) -> None:
    one = create(api22, name="one")
    assert body_of(api22.delete(URL, {"ids": [one["id"]]})) == {"code": 0}


def test_delete_all_with_ids_is_refused(api) -> None:
    one = create(api, name="one")
    assert_error(
        api.delete(URL, {"ids": [one["id"]], "delete_all": True}),
        RetCode.ARGUMENT_ERROR,
        "not both",
    )
    assert_error(api.delete(URL, {"delete_all": "yes"}), RetCode.ARGUMENT_ERROR)
    assert Dataset.objects.count() == 1


def test_delete_of_a_foreign_id_is_102_in_v027_and_108_in_v022(api, api22, tenant) -> None:
    kb = create(api, name="kb")
    ghost = uuid.uuid1().hex
    message = f"User '{tenant.pk}' lacks permission for datasets: '{ghost}'"
    assert_error(
        api.delete(URL, {"ids": [kb["id"], ghost], "delete_all": False}),
        RetCode.DATA_ERROR,
        message,
    )
    assert_error(api22.delete(URL, {"ids": [kb["id"], ghost]}), RetCode.PERMISSION_ERROR, message)
    assert Dataset.objects.filter(pk=kb["id"]).exists()


def test_v027_accepts_any_uuid_version(api, api22, tenant) -> None:
    other = uuid.uuid4().hex
    assert_error(
        api.delete(URL, {"ids": [other], "delete_all": False}),
        RetCode.DATA_ERROR,
        f"User '{tenant.pk}' lacks permission for datasets: '{other}'",
    )
    assert_error(api.delete(URL, {"ids": ["nope"]}), RetCode.ARGUMENT_ERROR, "Invalid UUID format")
    assert_error(
        api22.delete(URL, {"ids": [other]}), RetCode.ARGUMENT_ERROR, "Invalid UUID1 format"
    )


# --- GET /datasets/{id} -------------------------------------------------------------------------


def test_get_one_dataset_returns_the_object_with_size_and_connectors(api, api22) -> None:
    kb = create(api, name="kb")
    for client in (api, api22):
        data = assert_ok(client.get(f"{URL}/{kb['id']}"))
        assert data["id"] == kb["id"] and data["name"] == "kb"
        assert data["size"] == 0 and data["connectors"] == []
        assert data["chunk_method"] == "naive" and "parser_config" in data


def test_get_one_dataset_errors(api, other_api, other_tenant, tenant) -> None:
    from django.contrib.auth.models import Group

    kb = create(api, name="kb", permission="team")
    assert_error(
        other_api.get(f"{URL}/{kb['id']}"),
        RetCode.DATA_ERROR,
        f"User '{other_tenant.pk}' lacks permission for dataset '{kb['id']}'",
    )
    assert_error(api.get(f"{URL}/not-a-uuid"), RetCode.DATA_ERROR, "Invalid Dataset ID")
    team = Group.objects.create(name="research")
    team.user_set.add(tenant, other_tenant)
    assert assert_ok(other_api.get(f"{URL}/{kb['id']}"))["name"] == "kb"
