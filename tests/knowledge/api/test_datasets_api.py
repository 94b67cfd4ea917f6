"""POST/GET/PUT/DELETE /api/v1/datasets on literal paths (contract §2)."""

from __future__ import annotations

import uuid

import pytest

from knowledge.models import Dataset
from knowledge.parser_config import RAPTOR_PROMPT
from ragsite.accounts.services import api_key_create
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of


# This module pins RAGFlow v0.22's answers (ragflow-sdk 0.22.1); test_v027_*.py covers v0.27.
@pytest.fixture
def api_key(api22_key: str) -> str:
    return api22_key


@pytest.fixture
def other_api_key(other_tenant) -> str:
    return api_key_create(user=other_tenant, name="tests v0.22", generation="v0.22")[1]


URL = "/api/v1/datasets"
BUILTIN = "sentence-transformers/all-MiniLM-L6-v2@Builtin"


def create(api, **body):
    return assert_ok(api.post(URL, body))


# --- create ---------------------------------------------------------------------------


def test_create_returns_the_full_dataset_object(api, tenant) -> None:
    data = create(api, name="kb")
    assert data["name"] == "kb"
    assert uuid.UUID(data["id"]).version == 1 and len(data["id"]) == 32 and "-" not in data["id"]
    assert data["tenant_id"] == tenant.pk == data["created_by"]
    assert data["chunk_method"] == "naive"
    assert data["embedding_model"] == BUILTIN
    assert data["permission"] == "me"
    assert data["avatar"] is None and data["description"] is None
    assert (data["document_count"], data["chunk_count"], data["token_num"]) == (0, 0, 0)
    assert data["pagerank"] == 0 and data["status"] == "1"
    assert data["similarity_threshold"] == 0.2 and data["vector_similarity_weight"] == 0.3
    assert isinstance(data["create_time"], int) and data["create_date"].endswith("GMT")


def test_create_fills_naive_parser_config_defaults(api) -> None:
    config = create(api, name="kb")["parser_config"]
    assert config["chunk_token_num"] == 512
    assert config["delimiter"] == "\n"
    assert config["layout_recognize"] == "DeepDOC"
    assert config["topn_tags"] == 3
    assert config["raptor"]["use_raptor"] is True
    assert config["raptor"]["prompt"] == RAPTOR_PROMPT
    assert "\n      {cluster_content}\n" in RAPTOR_PROMPT
    assert config["graphrag"] == {
        "use_graphrag": True,
        "entity_types": ["organization", "person", "geo", "event", "category"],
        "method": "light",
    }


def test_create_with_partial_parser_config_dumps_the_full_schema(api) -> None:
    config = create(api, name="kb", parser_config={"chunk_token_num": 1024})["parser_config"]
    assert config["chunk_token_num"] == 1024
    assert config["raptor"]["use_raptor"] is False
    assert config["graphrag"]["use_graphrag"] is False
    assert config["graphrag"]["community"] is False and config["graphrag"]["resolution"] is False
    assert config["delimiter"] == "\\n"
    assert config["topn_tags"] == 1
    assert config["filename_embd_weight"] == 0.1
    assert config["task_page_size"] is None and config["pages"] is None
    assert config["tag_kb_ids"] == []
    assert config["raptor"]["max_cluster"] == 64


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("qa", {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}),
        ("laws", {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}),
        ("table", {}),
        ("one", {}),
        ("picture", {}),
    ],
)
def test_create_uses_method_default_parser_config(api, method, expected) -> None:
    assert create(api, name=f"kb-{method}", chunk_method=method)["parser_config"] == expected


@pytest.mark.parametrize("config", [{}, None])
def test_create_treats_empty_parser_config_as_default(api, config) -> None:
    assert create(api, name="kb", parser_config=config)["parser_config"]["chunk_token_num"] == 512


def test_create_duplicate_name_is_suffixed_case_insensitively(api) -> None:
    assert create(api, name="duplicated_name")["name"] == "duplicated_name"
    assert create(api, name="duplicated_name")["name"] == "duplicated_name(1)"
    assert create(api, name="duplicated_name")["name"] == "duplicated_name(2)"
    assert create(api, name="CASEINSENSITIVE")["name"] == "CASEINSENSITIVE"
    assert create(api, name="caseinsensitive")["name"] == "caseinsensitive(1)"


def test_create_increments_an_existing_counter(api) -> None:
    create(api, name="kb(1)")
    assert create(api, name="kb(1)")["name"] == "kb(2)"


def test_same_name_in_another_tenant_is_not_a_duplicate(api, other_api) -> None:
    create(api, name="shared")
    assert create(other_api, name="shared")["name"] == "shared"


def test_create_strips_the_name(api) -> None:
    assert create(api, name="  padded  ")["name"] == "padded"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field: <name> - Message: <Field required>"),
        ({"name": ""}, "String should have at least 1 character"),
        ({"name": "   "}, "String should have at least 1 character"),
        ({"name": "a" * 129}, "String should have at most 128 characters"),
        ({"name": 1}, "Field: <name> - Message: <Input should be a valid string> - Value: <1>"),
        (
            {"name": "kb", "unknown_field": "x"},
            "Field: <unknown_field> - Message: <Extra inputs are not permitted> - Value: <x>",
        ),
        ({"name": "kb", "id": "x"}, "Extra inputs are not permitted"),
        ({"name": "kb", "tenant_id": "x"}, "Extra inputs are not permitted"),
        ({"name": "kb", "chunk_count": 1}, "Extra inputs are not permitted"),
        ({"name": "kb", "pagerank": 3}, "Extra inputs are not permitted"),
        ({"name": "kb", "permission": "Me"}, "Input should be 'me' or 'team'"),
        ({"name": "kb", "permission": None}, "Input should be 'me' or 'team'"),
        (
            {"name": "kb", "chunk_method": "knowledge"},
            "Input should be 'naive', 'book', 'email', 'laws', 'manual', 'one', 'paper', 'picture', 'presentation', 'qa', 'table' or 'tag'",
        ),
        ({"name": "kb", "chunk_method": None}, "Input should be 'naive'"),
        (
            {"name": "kb", "avatar": "no-prefix"},
            "Missing MIME prefix. Expected format: data:<mime>;base64,<data>",
        ),
        (
            {"name": "kb", "avatar": "image/png;base64,AAA="},
            "Invalid MIME prefix format. Must start with 'data:'",
        ),
        (
            {"name": "kb", "avatar": "data:image/gif;base64,AAA="},
            "Unsupported MIME type. Allowed: ['image/jpeg', 'image/png']",
        ),
        ({"name": "kb", "description": "d" * 65536}, "String should have at most 65535 characters"),
        (
            {"name": "kb", "embedding_model": "BAAI/bge-large-zh-v1.5BAAI"},
            "Embedding model identifier must follow <model_name>@<provider> format",
        ),
        (
            {"name": "kb", "embedding_model": "@BAAI"},
            "Both model_name and provider must be non-empty strings",
        ),
        (
            {"name": "kb", "embedding_model": "BAAI/bge-large-zh-v1.5@"},
            "Both model_name and provider must be non-empty strings",
        ),
        ({"name": "kb", "embedding_model": "x" * 256}, "String should have at most 255 characters"),
        (
            {"name": "kb", "parser_config": {"chunk_token_num": 0}},
            "Field: <parser_config.chunk_token_num> - Message: <Input should be greater than or equal to 1>",
        ),
        (
            {"name": "kb", "parser_config": {"chunk_token_num": 2049}},
            "Input should be less than or equal to 2048",
        ),
        (
            {"name": "kb", "parser_config": {"chunk_token_num": "1"}},
            "Input should be a valid integer",
        ),
        (
            {"name": "kb", "parser_config": {"chunk_token_num": 3.14}},
            "Input should be a valid integer",
        ),
        (
            {"name": "kb", "parser_config": {"html4excel": "true"}},
            "Input should be a valid boolean",
        ),
        (
            {"name": "kb", "parser_config": {"delimiter": ""}},
            "String should have at least 1 character",
        ),
        (
            {"name": "kb", "parser_config": {"raptor": {"max_token": 2049}}},
            "Field: <parser_config.raptor.max_token> - Message: <Input should be less than or equal to 2048> - Value: <2049>",
        ),
        (
            {"name": "kb", "parser_config": {"raptor": {"prompt": "   "}}},
            "String should have at least 1 character",
        ),
        (
            {"name": "kb", "parser_config": {"graphrag": {"method": "x"}}},
            "Input should be 'light', 'general' or 'ner'",
        ),
        ({"name": "kb", "parser_config": {"tag_kb_ids": "x"}}, "Input should be a valid list"),
        (
            {"name": "kb", "parser_config": {"filename_embd_weight": "x"}},
            "Input should be a valid number",
        ),
        (
            {"name": "kb", "parser_config": {"unknown": 1}},
            "Field: <parser_config.unknown> - Message: <Extra inputs are not permitted>",
        ),
        (
            {"name": "kb", "parser_config": {"graphrag": {"entity_types": ["x" * 65535]}}},
            "Parser config exceeds size limit (max 65,535 characters). Current size:",
        ),
    ],
)
def test_create_rejects_invalid_fields_with_101(api, body, message) -> None:
    assert_error(api.post(URL, body), RetCode.ARGUMENT_ERROR, message)
    assert not Dataset.objects.exists()


def test_create_accepts_an_int_where_a_float_is_expected(api) -> None:
    config = create(api, name="kb", parser_config={"raptor": {"threshold": 1}})["parser_config"]
    assert config["raptor"]["threshold"] == 1


def test_create_rejects_a_name_over_128_bytes_with_102(api) -> None:
    name = "知" * 50  # 50 characters, 150 UTF-8 bytes
    assert_error(
        api.post(URL, {"name": name}),
        RetCode.DATA_ERROR,
        "Dataset name length is 150 which is larger than 128",
    )


def test_create_accepts_a_valid_avatar(api) -> None:
    avatar = "data:image/png;base64,iVBORw0KGgo="
    assert create(api, name="kb", avatar=avatar)["avatar"] == avatar


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("unknown_model@unknown_factory", "Unsupported model: <unknown_model@unknown_factory>"),
        ("text-embedding-3-small@OpenAI", "Unauthorized model: <text-embedding-3-small@OpenAI>"),
    ],
)
def test_create_rejects_unusable_embedding_models(api, model, message) -> None:
    assert_error(
        api.post(URL, {"name": "kb", "embedding_model": model}), RetCode.ARGUMENT_ERROR, message
    )


@pytest.mark.parametrize(
    ("content_type", "raw", "message"),
    [
        (
            "text/plain",
            b'{"name":"kb"}',
            "Unsupported content type: Expected application/json, got text/plain",
        ),
        (
            "application/json",
            b'{"name":',
            "Malformed JSON syntax: Missing commas/brackets or invalid encoding",
        ),
        (
            "application/json",
            b"",
            "Malformed JSON syntax: Missing commas/brackets or invalid encoding",
        ),
        ("application/json", b"\xff\xfe", "Malformed JSON syntax"),
        ("application/json", b'"kb"', "Invalid request payload: expected object, got str"),
        ("application/json", b"[1]", "Invalid request payload: expected object, got list"),
    ],
)
def test_create_prechecks_the_body(api, content_type, raw, message) -> None:
    # CONTENT_TYPE is passed explicitly: Django's test client drops it when the body is empty.
    response = api.client.post(
        URL, raw, content_type=content_type, headers=api.headers, CONTENT_TYPE=content_type
    )
    assert_error(response, RetCode.ARGUMENT_ERROR, message)


def test_create_accepts_what_sdk_017_sends(api) -> None:
    data = create(
        api,
        name="legacy",
        avatar="",
        description="",
        language="English",
        embedding_model="BAAI/bge-large-zh-v1.5",
        permission="me",
        chunk_method="naive",
    )
    assert data["embedding_model"] == BUILTIN
    assert data["avatar"] is None
    assert data["language"] == "English"


def test_create_resolves_a_bare_builtin_model_name(api) -> None:
    data = create(api, name="kb", embedding_model="sentence-transformers/all-MiniLM-L6-v2")
    assert data["embedding_model"] == BUILTIN


# --- list ---------------------------------------------------------------------------------


def test_list_is_newest_first_with_totals(api) -> None:
    ids = [create(api, name=f"kb{i}")["id"] for i in range(3)]
    body = body_of(api.get(URL))
    assert body["code"] == 0
    assert [d["id"] for d in body["data"]] == ids[::-1]
    assert body["total_datasets"] == 3 == body["total"]


def test_list_orders_and_pages(api) -> None:
    ids = [create(api, name=f"kb{i}")["id"] for i in range(5)]
    data = assert_ok(
        api.get(URL, {"page": 2, "page_size": 2, "orderby": "create_time", "desc": "False"})
    )
    assert [d["id"] for d in data] == ids[2:4]
    data = assert_ok(api.get(URL, {"page": 3, "page_size": 2, "desc": "false"}))
    assert [d["id"] for d in data] == ids[4:]
    assert assert_ok(api.get(URL, {"page": 9, "page_size": 2})) == []


def test_list_by_update_time(api) -> None:
    first = create(api, name="a")["id"]
    second = create(api, name="b")["id"]
    assert_ok(api.put(f"{URL}/{first}", {"description": "touched"}))
    data = assert_ok(api.get(URL, {"orderby": "update_time", "desc": "True"}))
    assert [d["id"] for d in data] == [first, second]


def test_list_by_name_and_by_id(api) -> None:
    kb = create(api, name="Named")
    create(api, name="other")
    assert [d["id"] for d in assert_ok(api.get(URL, {"name": "Named"}))] == [kb["id"]]
    assert [d["id"] for d in assert_ok(api.get(URL, {"name": "named"}))] == [kb["id"]]
    assert [d["id"] for d in assert_ok(api.get(URL, {"id": kb["id"]}))] == [kb["id"]]
    assert len(assert_ok(api.get(URL, {"name": ""}))) == 2


def test_list_by_id_and_name_that_do_not_match_is_empty(api) -> None:
    one = create(api, name="one")
    create(api, name="two")
    assert assert_ok(api.get(URL, {"id": one["id"], "name": "two"})) == []


def test_list_unknown_name_or_id_is_a_permission_error(api, tenant) -> None:
    assert_error(
        api.get(URL, {"name": "ghost"}),
        RetCode.PERMISSION_ERROR,
        f"User '{tenant.pk}' lacks permission for dataset 'ghost'",
    )
    ghost = uuid.uuid1().hex
    assert_error(
        api.get(URL, {"id": ghost}),
        RetCode.PERMISSION_ERROR,
        f"User '{tenant.pk}' lacks permission for dataset '{ghost}'",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"id": uuid.uuid4().hex}, "Invalid UUID1 format"),
        ({"id": ""}, "Invalid UUID1 format"),
        ({"page": 0}, "Field: <page> - Message: <Input should be greater than or equal to 1>"),
        ({"page": "x"}, "Input should be a valid integer, unable to parse string as an integer"),
        ({"page_size": 0}, "Input should be greater than or equal to 1"),
        ({"orderby": "name"}, "Input should be 'create_time' or 'update_time'"),
        ({"orderby": "Create_time"}, "Input should be 'create_time' or 'update_time'"),
        ({"desc": "maybe"}, "Input should be a valid boolean, unable to interpret input"),
    ],
)
def test_list_validates_the_query_string(api, params, message) -> None:
    assert_error(api.get(URL, params), RetCode.ARGUMENT_ERROR, message)


def test_list_page_size_is_capped_with_a_clear_error(api, settings) -> None:
    for i in range(3):
        create(api, name=f"kb{i}")
    assert len(assert_ok(api.get(URL, {"page_size": settings.RAGSITE_MAX_PAGE_SIZE}))) == 3
    assert_error(
        api.get(URL, {"page_size": settings.RAGSITE_MAX_PAGE_SIZE + 1}),
        RetCode.ARGUMENT_ERROR,
        f"`page_size` should be at most {settings.RAGSITE_MAX_PAGE_SIZE}.",
    )


# --- tenancy and teams ------------------------------------------------------------------------


def test_other_tenant_cannot_see_or_touch_my_datasets(api, other_api, other_tenant) -> None:
    mine = create(api, name="mine")
    assert assert_ok(other_api.get(URL)) == []
    assert_error(
        other_api.get(URL, {"id": mine["id"]}),
        RetCode.PERMISSION_ERROR,
        f"User '{other_tenant.pk}' lacks permission for dataset '{mine['id']}'",
    )
    assert_error(other_api.get(URL, {"name": "mine"}), RetCode.PERMISSION_ERROR)
    assert_error(
        other_api.put(f"{URL}/{mine['id']}", {"name": "stolen"}),
        RetCode.PERMISSION_ERROR,
        f"User '{other_tenant.pk}' lacks permission for dataset '{mine['id']}'",
    )
    assert_error(
        other_api.delete(URL, {"ids": [mine["id"]]}),
        RetCode.PERMISSION_ERROR,
        f"User '{other_tenant.pk}' lacks permission for datasets: '{mine['id']}'",
    )
    assert_ok(other_api.delete(URL, {"ids": None}))
    assert Dataset.objects.get(pk=mine["id"]).name == "mine"


def test_team_datasets_are_visible_to_team_mates_only(api, other_api, tenant, other_tenant) -> None:
    from django.contrib.auth.models import Group

    private = create(api, name="private")
    shared = create(api, name="shared", permission="team")
    assert assert_ok(other_api.get(URL)) == []
    team = Group.objects.create(name="research")
    team.user_set.add(tenant, other_tenant)
    visible = [d["id"] for d in assert_ok(other_api.get(URL))]
    assert visible == [shared["id"]]
    assert assert_ok(other_api.get(URL, {"id": shared["id"]}))[0]["name"] == "shared"
    assert_error(other_api.get(URL, {"id": private["id"]}), RetCode.PERMISSION_ERROR)
    # Team mates may read, never change or delete.
    assert_error(other_api.put(f"{URL}/{shared['id']}", {"name": "x"}), RetCode.PERMISSION_ERROR)
    assert_error(other_api.delete(URL, {"ids": [shared["id"]]}), RetCode.PERMISSION_ERROR)


# --- update ---------------------------------------------------------------------------------------


def test_update_returns_the_updated_dataset(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(
        api.put(
            f"{URL}/{kb['id']}",
            {"name": "renamed", "description": "d", "pagerank": 7, "permission": "team"},
        )
    )
    assert (data["name"], data["description"], data["pagerank"], data["permission"]) == (
        "renamed",
        "d",
        7,
        "team",
    )
    assert assert_ok(api.get(URL, {"id": kb["id"]}))[0]["name"] == "renamed"


def test_update_only_applies_sent_keys(api) -> None:
    kb = create(api, name="kb", description="keep", permission="team")
    data = assert_ok(api.put(f"{URL}/{kb['id']}", {"name": "new"}))
    assert data["description"] == "keep" and data["permission"] == "team"
    assert data["chunk_method"] == "naive"


def test_update_deep_merges_parser_config(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(
        api.put(
            f"{URL}/{kb['id']}",
            {"parser_config": {"chunk_token_num": 256, "raptor": {"max_token": 100}}},
        )
    )
    config = data["parser_config"]
    assert config["chunk_token_num"] == 256
    assert config["raptor"]["max_token"] == 100
    assert config["raptor"]["use_raptor"] is True  # untouched keys stay
    assert config["delimiter"] == "\n"


def test_update_chunk_method_resets_parser_config(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(api.put(f"{URL}/{kb['id']}", {"chunk_method": "manual"}))
    assert data["chunk_method"] == "manual"
    assert data["parser_config"] == {
        "raptor": {"use_raptor": False},
        "graphrag": {"use_graphrag": False},
    }
    data = assert_ok(api.put(f"{URL}/{kb['id']}", {"chunk_method": "naive"}))
    assert data["parser_config"]["chunk_token_num"] == 512


def test_update_chunk_method_with_config_merges_instead(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(
        api.put(
            f"{URL}/{kb['id']}", {"chunk_method": "qa", "parser_config": {"chunk_token_num": 64}}
        )
    )
    assert data["chunk_method"] == "qa"
    assert data["parser_config"]["chunk_token_num"] == 64
    assert data["parser_config"]["raptor"]["use_raptor"] is True


def test_update_with_empty_body_changes_nothing(api) -> None:
    kb = create(api, name="kb")
    assert_error(
        api.put(f"{URL}/{kb['id']}", {}), RetCode.ARGUMENT_ERROR, "No properties were modified"
    )
    response = api.client.put(
        f"{URL}/{kb['id']}", b"", headers=api.headers, CONTENT_TYPE="application/json"
    )
    assert_error(response, RetCode.ARGUMENT_ERROR, "Malformed JSON syntax")


def test_update_refuses_a_name_taken_by_another_dataset(api) -> None:
    create(api, name="taken")
    kb = create(api, name="kb")
    assert_error(
        api.put(f"{URL}/{kb['id']}", {"name": "TAKEN"}),
        RetCode.DATA_ERROR,
        "Dataset name 'TAKEN' already exists",
    )
    assert assert_ok(api.put(f"{URL}/{kb['id']}", {"name": "KB"}))["name"] == "KB"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pagerank": 101}, "Input should be less than or equal to 100"),
        ({"pagerank": -1}, "Input should be greater than or equal to 0"),
        ({"name": ""}, "String should have at least 1 character"),
        ({"id": "x"}, "Extra inputs are not permitted"),
        ({"document_count": 5}, "Extra inputs are not permitted"),
        ({"chunk_method": "bogus"}, "Input should be 'naive'"),
        (
            {"embedding_model": "nope"},
            "Embedding model identifier must follow <model_name>@<provider> format",
        ),
    ],
)
def test_update_validates_fields(api, body, message) -> None:
    kb = create(api, name="kb")
    assert_error(api.put(f"{URL}/{kb['id']}", body), RetCode.ARGUMENT_ERROR, message)


def test_update_accepts_unchanged_counters_from_sdk_017(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(
        api.put(f"{URL}/{kb['id']}", {"name": "x", "chunk_count": 0, "document_count": 0})
    )
    assert data["name"] == "x"


@pytest.mark.parametrize("dataset_id", ["not-a-uuid", uuid.uuid4().hex])
def test_update_validates_the_dataset_id(api, dataset_id) -> None:
    assert_error(
        api.put(f"{URL}/{dataset_id}", {"name": "x"}),
        RetCode.ARGUMENT_ERROR,
        "Invalid UUID1 format",
    )


def test_update_unknown_dataset_is_a_permission_error(api, tenant) -> None:
    ghost = uuid.uuid1().hex
    assert_error(
        api.put(f"{URL}/{ghost}", {"name": "x"}),
        RetCode.PERMISSION_ERROR,
        f"User '{tenant.pk}' lacks permission for dataset '{ghost}'",
    )


def test_update_embedding_model(api) -> None:
    kb = create(api, name="kb")
    data = assert_ok(api.put(f"{URL}/{kb['id']}", {"embedding_model": ""}))
    assert data["embedding_model"] == BUILTIN
    assert_error(
        api.put(f"{URL}/{kb['id']}", {"embedding_model": "ghost@Nowhere"}),
        RetCode.ARGUMENT_ERROR,
        "Unsupported model: <ghost@Nowhere>",
    )


def test_update_embedding_model_is_locked_once_there_are_chunks(api) -> None:
    kb = create(api, name="kb")
    Dataset.objects.filter(pk=kb["id"]).update(chunk_count=3)
    assert_error(
        api.put(f"{URL}/{kb['id']}", {"embedding_model": "text-embedding-3-small@OpenAI"}),
        RetCode.DATA_ERROR,
        f"When chunk_num (3) > 0, embedding_model must remain {BUILTIN}",
    )


# --- delete -------------------------------------------------------------------------------------------


def test_delete_by_ids(api) -> None:
    one, two = create(api, name="one"), create(api, name="two")
    assert body_of(api.delete(URL, {"ids": [one["id"]]})) == {"code": 0}
    assert [d["id"] for d in assert_ok(api.get(URL))] == [two["id"]]


def test_delete_empty_list_deletes_nothing_and_null_deletes_all(api, other_api) -> None:
    create(api, name="one")
    create(api, name="two")
    theirs = create(other_api, name="theirs")
    assert_ok(api.delete(URL, {"ids": []}))
    assert len(assert_ok(api.get(URL))) == 2
    assert_ok(api.delete(URL, {"ids": None}))
    assert assert_ok(api.get(URL)) == []
    assert [d["id"] for d in assert_ok(other_api.get(URL))] == [theirs["id"]]


def test_delete_is_all_or_nothing(api, tenant) -> None:
    kb = create(api, name="kb")
    ghost = uuid.uuid1().hex
    assert_error(
        api.delete(URL, {"ids": [kb["id"], ghost]}),
        RetCode.PERMISSION_ERROR,
        f"User '{tenant.pk}' lacks permission for datasets: '{ghost}'",
    )
    assert Dataset.objects.filter(pk=kb["id"]).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Field: <ids> - Message: <Field required>"),
        ({"ids": "x"}, "Input should be a valid list"),
        ({"ids": [uuid.uuid4().hex]}, "Invalid UUID1 format"),
        ({"ids": [1]}, "Field: <ids.0> - Message: <Input should be a valid string>"),
        ({"ids": None, "extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_delete_validates_the_body(api, body, message) -> None:
    assert_error(api.delete(URL, body), RetCode.ARGUMENT_ERROR, message)


def test_delete_refuses_duplicate_ids(api) -> None:
    kb = create(api, name="kb")
    assert_error(
        api.delete(URL, {"ids": [kb["id"], kb["id"]]}),
        RetCode.ARGUMENT_ERROR,
        f"Duplicate ids: '{kb['id']}'",
    )
    assert Dataset.objects.filter(pk=kb["id"]).exists()


def test_delete_without_a_body_is_malformed(api) -> None:
    response = api.client.delete(URL, headers=api.headers)
    assert_error(response, RetCode.ARGUMENT_ERROR)
