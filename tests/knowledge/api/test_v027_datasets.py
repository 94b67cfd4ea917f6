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


# --- GET /datasets: ids, include_parsing_status, unknown parameters ---------------------------


def test_list_by_ids_drops_what_the_caller_cannot_see(api, api22, other_api) -> None:
    one, two = create(api, name="one"), create(api, name="two")
    theirs = create(other_api, name="theirs")
    for client in (api, api22):
        listed = assert_ok(client.get(URL, {"ids": [one["id"], theirs["id"]]}))
        assert [d["id"] for d in listed] == [one["id"]]
        both = assert_ok(
            client.get(URL, {"ids": f"{one['id']},{two['id']}", "orderby": "create_time"})
        )
        assert {d["id"] for d in both} == {one["id"], two["id"]}
    assert assert_ok(api.get(URL, {"ids": [theirs["id"]]})) == []
    assert_error(
        api.get(URL, {"id": one["id"], "ids": [two["id"]]}),
        RetCode.DATA_ERROR,
        f"Should not provide both 'id':{one['id']} and 'ids'",
    )
    assert_error(
        api.get(URL, {"ids": [one["id"], one["id"]]}), RetCode.ARGUMENT_ERROR, "Duplicate ids"
    )
    assert_error(api.get(URL, {"ids": ["nope"]}), RetCode.ARGUMENT_ERROR, "Invalid UUID format")


def test_list_with_parsing_status_counts_documents_by_state(api) -> None:
    from django.core.files.base import ContentFile

    from knowledge.services.documents import Upload, document_upload

    kb = create(api, name="kb")
    dataset = Dataset.objects.get(pk=kb["id"])
    docs = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=f"{i}.txt", file=ContentFile(b"x"), size=1) for i in range(3)],
    )
    from knowledge.models import Document

    Document.objects.filter(pk=docs[0].pk).update(run=Document.Run.DONE)
    Document.objects.filter(pk=docs[1].pk).update(run=Document.Run.FAIL)
    (item,) = assert_ok(api.get(URL, {"include_parsing_status": "true"}))
    expected = {
        "unstart_count": 1,
        "running_count": 0,
        "cancel_count": 0,
        "done_count": 1,
        "fail_count": 1,
    }
    assert item["parsing_status"] == expected
    assert {key: item[key] for key in expected} == expected
    (plain,) = assert_ok(api.get(URL))
    assert "parsing_status" not in plain and "done_count" not in plain


def test_list_ignores_unknown_parameters_in_both_generations(api, api22) -> None:
    create(api, name="kb")
    for client in (api, api22):
        assert len(assert_ok(client.get(URL, {"bogus": "1", "ext": "{}"}))) == 1


def test_v027_list_of_an_unknown_id_is_102(api, api22, tenant) -> None:
    ghost = uuid.uuid4().hex
    message = f"User '{tenant.pk}' lacks permission for dataset '{ghost}'"
    assert_error(api.get(URL, {"id": ghost}), RetCode.DATA_ERROR, message)
    assert_error(api22.get(URL, {"id": ghost}), RetCode.ARGUMENT_ERROR, "Invalid UUID1 format")


# --- create and update: the keys v0.27 added -----------------------------------------------------

META = {
    "metadata": [{"key": "author", "type": "string", "description": "who wrote it", "enum": None}],
    "built_in_metadata": [{"key": "year", "type": "number"}],
}


def test_create_and_update_accept_the_v027_keys(api, api22) -> None:
    kb = create(
        api, name="kb", auto_metadata_config=META, ext={"x": 1}, pipeline_id="", parse_type=None
    )
    config = assert_ok(api.get(f"{URL}/{kb['id']}/metadata/config"))
    assert config["metadata"][0]["key"] == "author"
    assert config["built_in_metadata"][0] == {
        "key": "year",
        "type": "number",
        "description": None,
        "enum": None,
    }
    connectors = [{"id": "c1", "name": "drive"}]
    for client in (api, api22):
        data = assert_ok(
            client.put(f"{URL}/{kb['id']}", {"connectors": connectors, "language": "German"})
        )
        assert data["connectors"] == connectors and data["language"] == "German"
    data = assert_ok(
        api.put(
            f"{URL}/{kb['id']}",
            {
                "parser_config": {
                    "parent_child": {"use_parent_child": True},
                    "raptor": {"scope": "dataset"},
                }
            },
        )
    )
    # An update merges only the keys sent.
    assert data["parser_config"]["parent_child"] == {"use_parent_child": True}
    assert data["parser_config"]["raptor"]["scope"] == "dataset"
    assert data["parser_config"]["chunk_token_num"] == 512
    assert_ok(api.put(f"{URL}/{kb['id']}", {"auto_metadata_config": {"metadata": []}}))
    assert assert_ok(api.get(f"{URL}/{kb['id']}/metadata/config")) == {
        "metadata": [],
        "built_in_metadata": [],
    }


def test_v022_configs_do_not_grow_v027_keys(api22) -> None:
    config = create(api22, name="kb", parser_config={"chunk_token_num": 1024})["parser_config"]
    assert "parent_child" not in config and "clustering_ratio" not in config["raptor"]


def test_pipelines_are_refused_clearly(api) -> None:
    assert_error(
        api.post(URL, {"name": "kb", "pipeline_id": "a" * 32}),
        RetCode.ARGUMENT_ERROR,
        "ragsite has no ingestion pipelines",
    )


def test_update_texts_and_codes_follow_the_generation(api, api22, other_api, other_tenant) -> None:
    kb = create(api, name="kb")
    assert_error(
        api.put(f"{URL}/{kb['id']}", {}), RetCode.DATA_ERROR, "no properties were modified"
    )
    assert_error(
        api22.put(f"{URL}/{kb['id']}", {}), RetCode.ARGUMENT_ERROR, "No properties were modified"
    )
    assert_error(
        other_api.put(f"{URL}/{kb['id']}", {"name": "x"}),
        RetCode.DATA_ERROR,
        f"User '{other_tenant.pk}' lacks permission for dataset '{kb['id']}'",
    )


# --- dataset metadata -----------------------------------------------------------------------------


def test_metadata_config_round_trip_and_permissions(api, other_api, other_tenant) -> None:
    kb = create(api, name="kb")
    url = f"{URL}/{kb['id']}/metadata/config"
    assert assert_ok(api.get(url)) == {"metadata": [], "built_in_metadata": []}
    stored = assert_ok(api.put(url, {"metadata": META["metadata"]}))
    assert stored == {"metadata": META["metadata"], "built_in_metadata": []}
    assert assert_ok(api.get(url)) == stored
    assert_error(
        api.put(url, {"metadata": [{"key": "x", "type": "colour"}]}), RetCode.ARGUMENT_ERROR
    )
    assert_error(
        api.put(url, {"other": 1}), RetCode.ARGUMENT_ERROR, "Extra inputs are not permitted"
    )
    response = api.client.put(url, "{}", content_type="text/plain", headers=api.headers)
    assert_error(response, RetCode.ARGUMENT_ERROR, "Unsupported content type")
    message = f"User '{other_tenant.pk}' lacks permission for dataset '{kb['id']}'"
    assert_error(other_api.get(url), RetCode.DATA_ERROR, message)
    assert_error(other_api.put(url, {"metadata": []}), RetCode.DATA_ERROR, message)
    assert assert_ok(api.get(url)) == stored


def _documents_with_metadata(api, kb) -> list:
    from django.core.files.base import ContentFile

    from knowledge.models import Document
    from knowledge.services.documents import Upload, document_upload

    dataset = Dataset.objects.get(pk=kb["id"])
    docs = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=f"{i}.txt", file=ContentFile(b"x"), size=1) for i in range(3)],
    )
    metas = [
        {"author": "Ann", "year": 2019, "tags": ["sea", "ice"], "date": "2019-05-01"},
        {"author": "Bob", "year": 2021, "tags": ["sea"]},
        {},
    ]
    for doc, meta in zip(docs, metas, strict=True):
        Document.objects.filter(pk=doc.pk).update(meta_fields=meta)
    return docs


def test_metadata_summary_counts_values_by_key(api, other_api) -> None:
    kb = create(api, name="kb")
    docs = _documents_with_metadata(api, kb)
    summary = assert_ok(api.get(f"{URL}/{kb['id']}/metadata/summary"))["summary"]
    assert summary["author"] == {"type": "string", "values": [["Ann", 1], ["Bob", 1]]}
    assert summary["tags"] == {"type": "list", "values": [["sea", 2], ["ice", 1]]}
    assert summary["year"]["type"] == "number" and summary["date"]["type"] == "time"
    only = assert_ok(api.get(f"{URL}/{kb['id']}/metadata/summary", {"doc_ids": docs[1].pk}))
    assert only["summary"]["author"]["values"] == [["Bob", 1]]
    assert_error(
        other_api.get(f"{URL}/{kb['id']}/metadata/summary"),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {kb['id']}. ",
    )


@pytest.mark.parametrize("route", ["metadata/update", "documents/metadatas"])
def test_metadata_update_selects_updates_and_deletes(api, route) -> None:
    from knowledge.models import Document

    kb = create(api, name="kb")
    docs = _documents_with_metadata(api, kb)
    url = f"{URL}/{kb['id']}/{route}"
    send = api.patch if route == "documents/metadatas" else api.post
    condition = {"conditions": [{"name": "year", "comparison_operator": ">", "value": 2020}]}
    # Only a condition: the documents it matches (RAGFlow v0.27 would select nothing).
    data = assert_ok(
        send(
            url,
            {
                "selector": {"metadata_condition": condition},
                "updates": [{"key": "checked", "value": True}],
            },
        )
    )
    assert data == {"updated": 1, "matched_docs": 1}
    assert Document.objects.get(pk=docs[1].pk).meta_fields["checked"] is True
    # By ids, a matched update inside a list, a delete of one value and of a key.
    body = {
        "selector": {"document_ids": [docs[0].pk]},
        "updates": [{"key": "tags", "value": "glacier", "match": "ice"}],
        "deletes": [{"key": "tags", "value": "sea"}, {"key": "date"}],
    }
    assert assert_ok(send(url, body)) == {"updated": 1, "matched_docs": 1}
    meta = Document.objects.get(pk=docs[0].pk).meta_fields
    assert meta["tags"] == ["glacier"] and "date" not in meta and meta["author"] == "Ann"
    # No selector: every document.
    assert assert_ok(send(url, {"updates": [{"key": "kb", "value": "x"}]})) == {
        "updated": 3,
        "matched_docs": 3,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"selector": []}, "selector must be an object."),
        ({"updates": {}}, "updates and deletes must be lists."),
        ({"selector": {"metadata_condition": []}}, "metadata_condition must be an object."),
        ({"selector": {"document_ids": "x"}}, "document_ids must be a list."),
        ({"updates": [{"key": "a"}]}, "Each update requires key and value."),
        ({"deletes": [{"value": "a"}]}, "Each delete requires key."),
        (
            {"selector": {"document_ids": ["ghost"]}, "updates": [{"key": "a", "value": 1}]},
            "do not belong to dataset",
        ),
    ],
)
def test_metadata_update_errors(api, body, message) -> None:
    kb = create(api, name="kb")
    assert_error(api.post(f"{URL}/{kb['id']}/metadata/update", body), RetCode.DATA_ERROR, message)


def test_metadata_update_is_owner_only(api, other_api) -> None:
    kb = create(api, name="kb", permission="team")
    assert_error(
        other_api.post(f"{URL}/{kb['id']}/metadata/update", {}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {kb['id']}. ",
    )
    assert_error(
        other_api.patch(f"{URL}/{kb['id']}/documents/metadatas", {}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {kb['id']}.",
    )
