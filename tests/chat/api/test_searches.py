"""Search apps, /api/v1/searches (RAGFlow v0.27 contract §3.8), on literal paths."""

from __future__ import annotations

import json

import pytest

from chat.models import SearchApp
from knowledge.models import Dataset, ModelProvider
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.chat.api.conftest import QUESTION, sse_events
from tests.chat.llm.test_openai_compat import service, sse_reply  # noqa: F401
from tests.helpers import assert_error, assert_ok, body_of

NO_AUTHORIZATION = {
    "code": RetCode.AUTHENTICATION_ERROR,
    "message": "no authorization",
    "data": False,
}
TERMINATOR = {"code": 0, "message": "", "data": True}


def create(api, **body) -> str:
    return assert_ok(api.post("/api/v1/searches", body))["search_id"]


@pytest.fixture
def search(api, facts: Dataset) -> str:
    search_id = create(api, name="walrus search", description="counts")
    current = assert_ok(api.get(f"/api/v1/searches/{search_id}"))
    config = {**current["search_config"], "kb_ids": [facts.pk]}
    assert_ok(
        api.put(f"/api/v1/searches/{search_id}", {"name": "walrus search", "search_config": config})
    )
    return search_id


def test_create_returns_the_id_and_get_shows_the_default_config(api, tenant: User) -> None:
    body = body_of(api.post("/api/v1/searches", {"name": " docs ", "description": "mine"}))
    assert body["code"] == 0 and set(body["data"]) == {"search_id"}
    app = assert_ok(api.get(f"/api/v1/searches/{body['data']['search_id']}"))
    assert app["name"] == "docs" and app["description"] == "mine"
    assert app["tenant_id"] == tenant.pk == app["created_by"]
    config = app["search_config"]
    assert config["kb_ids"] == [] and config["similarity_threshold"] == 0.2
    assert config["vector_similarity_weight"] == 0.3 and config["top_k"] == 1024
    assert config["summary"] is False and config["highlight"] is False
    assert config["llm_setting"]["temperature"] == 0.1
    assert isinstance(app["create_time"], int) and isinstance(app["update_time"], int)


def test_a_duplicate_name_is_suffixed(api) -> None:
    ids = [create(api, name="same") for _ in range(3)]
    names = [assert_ok(api.get(f"/api/v1/searches/{i}"))["name"] for i in ids]
    assert names == ["same", "same(1)", "same(2)"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, RetCode.ARGUMENT_ERROR, "required argument are missing: name; "),
        ({"description": "x"}, RetCode.ARGUMENT_ERROR, "required argument are missing: name; "),
        ({"name": 5}, RetCode.DATA_ERROR, "Search name must be string."),
        ({"name": "  "}, RetCode.DATA_ERROR, "Search name can't be empty."),
        (
            {"name": "x" * 256},
            RetCode.DATA_ERROR,
            "Search name length is 256 which is large than 255.",
        ),
        (
            {"name": "é" * 128},
            RetCode.DATA_ERROR,
            "Search name length is 128 which is large than 255.",
        ),
        (
            {"name": "a", "search_config": []},
            RetCode.DATA_ERROR,
            "search_config must be a JSON object",
        ),
        (
            {"name": "a", "search_config": {"top_k": 0}},
            RetCode.DATA_ERROR,
            "search_config.top_k must be a positive integer.",
        ),
        (
            {"name": "a", "search_config": {"kb_ids": "k"}},
            RetCode.DATA_ERROR,
            "search_config.kb_ids must be a list of ids.",
        ),
        ({"name": "a", "description": 3}, RetCode.DATA_ERROR, "Search description must be string."),
    ],
)
def test_create_refusals(api, body, code, message) -> None:
    assert body_of(api.post("/api/v1/searches", body)) == {"code": code, "message": message}
    assert not SearchApp.objects.exists()


def test_malformed_json_is_101(api) -> None:
    response = api.post("/api/v1/searches", "{", content_type="application/json")
    assert_error(response, RetCode.ARGUMENT_ERROR, "Malformed JSON")
    assert_error(api.post("/api/v1/searches", [1]), RetCode.ARGUMENT_ERROR)


def test_list_filters_orders_and_pages(api, other_api) -> None:
    for name in ("alpha", "beta", "alphabet"):
        create(api, name=name)
    create(other_api, name="alpha-of-someone-else")
    data = assert_ok(api.get("/api/v1/searches"))
    assert data["total"] == 3
    assert [a["name"] for a in data["search_apps"]] == ["alphabet", "beta", "alpha"]
    assert "search_config" not in data["search_apps"][0]
    found = assert_ok(api.get("/api/v1/searches", {"keywords": "ALPHA", "desc": "false"}))
    assert [a["name"] for a in found["search_apps"]] == ["alpha", "alphabet"]
    page = assert_ok(api.get("/api/v1/searches", {"page": 2, "page_size": 2, "orderby": "name"}))
    assert page["total"] == 3 and [a["name"] for a in page["search_apps"]] == ["alpha"]
    bad = assert_ok(api.get("/api/v1/searches", {"page": "x0", "page_size": "-1"}))
    assert bad["total"] == 3 and len(bad["search_apps"]) == 3
    theirs = assert_ok(api.get("/api/v1/searches", {"owner_ids": "someone"}))
    assert theirs == {"search_apps": [], "total": 0}
    too_many = api.get("/api/v1/searches", {"owner_ids": ",".join(str(i) for i in range(101))})
    assert body_of(too_many) == {
        "code": RetCode.ARGUMENT_ERROR,
        "message": "owner_ids must contain at most 100 IDs",
    }


def test_update_merges_the_config_one_level_deep(api) -> None:
    search_id = create(
        api, name="s", search_config={"highlight": True, "llm_setting": {"top_p": 1}}
    )
    updated = assert_ok(
        api.put(
            f"/api/v1/searches/{search_id}",
            {
                "name": "renamed",
                "search_config": {"summary": True, "llm_setting": {"temperature": 0.5}},
            },
        )
    )
    assert updated["name"] == "renamed"
    config = updated["search_config"]
    assert config["highlight"] is True and config["summary"] is True
    assert config["llm_setting"] == {"temperature": 0.5}  # one level deep, as RAGFlow merges
    assert assert_ok(api.get(f"/api/v1/searches/{search_id}"))["search_config"] == config


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"name": "x"}, RetCode.ARGUMENT_ERROR, "required argument are missing: search_config; "),
        ({}, RetCode.ARGUMENT_ERROR, "required argument are missing: name,search_config; "),
        ({"name": "", "search_config": {}}, RetCode.DATA_ERROR, "Search name can't be empty."),
        (
            {"name": "x" * 129, "search_config": {}},
            RetCode.DATA_ERROR,
            "Search name length is 129 which is large than 128",
        ),
        ({"name": "taken", "search_config": {}}, RetCode.DATA_ERROR, "Duplicated search name."),
        (
            {"name": "x", "search_config": "{}"},
            RetCode.DATA_ERROR,
            "search_config must be a JSON object",
        ),
        (
            {"name": "x", "search_config": {"similarity_threshold": 2}},
            RetCode.DATA_ERROR,
            "search_config.similarity_threshold must be a number from 0 to 1.",
        ),
    ],
)
def test_update_refusals(api, body, code, message) -> None:
    create(api, name="taken")
    search_id = create(api, name="mine")
    assert body_of(api.put(f"/api/v1/searches/{search_id}", body)) == {
        "code": code,
        "message": message,
    }
    assert SearchApp.objects.get(pk=search_id).name == "mine"


def test_another_users_search_is_refused_everywhere(api, other_api, facts) -> None:
    search_id = create(api, name="private", search_config={"kb_ids": [facts.pk]})
    url = f"/api/v1/searches/{search_id}"
    assert body_of(other_api.get(url)) == {
        "code": RetCode.OPERATING_ERROR,
        "message": "Has no permission for this operation.",
        "data": False,
    }
    assert body_of(other_api.put(url, {"name": "stolen", "search_config": {}})) == NO_AUTHORIZATION
    assert body_of(other_api.delete(url)) == NO_AUTHORIZATION
    assert body_of(other_api.post(f"{url}/completions", {"question": QUESTION})) == NO_AUTHORIZATION
    assert assert_ok(other_api.get("/api/v1/searches"))["total"] == 0
    assert SearchApp.objects.get(pk=search_id).name == "private"
    assert body_of(api.get("/api/v1/searches/nope"))["code"] == RetCode.OPERATING_ERROR


def test_delete(api) -> None:
    search_id = create(api, name="gone")
    assert body_of(api.delete(f"/api/v1/searches/{search_id}")) == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    assert body_of(api.delete(f"/api/v1/searches/{search_id}")) == NO_AUTHORIZATION
    assert not SearchApp.objects.exists()


def test_completion_streams_a_summary_then_the_reference(api, search) -> None:
    events = sse_events(api.post(f"/api/v1/searches/{search}/completions", {"question": QUESTION}))
    assert events[-1] == TERMINATOR
    *deltas, final = [e["data"] for e in events[:-1]]
    assert deltas and all(d["final"] is False and d["reference"] == {} for d in deltas)
    assert all(e["code"] == 0 and e["message"] == "" for e in events)
    assert "4312" in "".join(d["answer"] for d in deltas)
    assert final["final"] is True and final["answer"] == ""
    chunks = final["reference"]["chunks"]
    assert chunks and "4312" in chunks[0]["content"]
    assert final["reference"]["doc_aggs"][0]["doc_name"] == "facts.txt"
    # The singular alias answers the same way.
    alias = sse_events(api.post(f"/api/v1/searches/{search}/completion", {"question": QUESTION}))
    assert alias[-1] == TERMINATOR and alias[-2]["data"]["final"] is True


def test_completion_uses_kb_ids_only_when_the_app_has_none(api, facts, tenant) -> None:
    search_id = create(api, name="bare")
    url = f"/api/v1/searches/{search_id}/completions"
    assert body_of(api.post(url, {"question": QUESTION})) == {
        "code": RetCode.DATA_ERROR,
        "message": "`kb_ids` is required.",
    }
    events = sse_events(api.post(url, {"question": QUESTION, "kb_ids": [facts.pk]}))
    assert events[-2]["data"]["reference"]["chunks"]
    empty = dataset_create(tenant=tenant, name="empty")
    configured = create(api, name="configured", search_config={"kb_ids": [empty.pk]})
    events = sse_events(
        api.post(
            f"/api/v1/searches/{configured}/completions",
            {"question": QUESTION, "kb_ids": [facts.pk]},
        )
    )
    assert events[-2]["data"]["reference"]["chunks"] == []  # the app's own (empty) dataset


def test_completion_refuses_a_dataset_the_caller_cannot_read(api, other_tenant) -> None:
    theirs = dataset_create(tenant=other_tenant, name="theirs")
    search_id = create(api, name="s", search_config={"kb_ids": [theirs.pk]})
    response = api.post(f"/api/v1/searches/{search_id}/completions", {"question": QUESTION})
    assert body_of(response) == {
        "code": RetCode.DATA_ERROR,
        "message": f"You don't own the dataset {theirs.pk}",
    }
    bare = create(api, name="bare")
    response = api.post(
        f"/api/v1/searches/{bare}/completions", {"question": "q", "kb_ids": [theirs.pk]}
    )
    assert body_of(response)["message"] == f"You don't own the dataset {theirs.pk}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "required argument are missing: question; "),
        ({"kb_ids": []}, "required argument are missing: question; "),
        ({"question": 3}, "`question` should be a string."),
        ({"question": "q" * 100_000}, "`question` is too long"),
    ],
)
def test_completion_bad_input(api, search, body, message) -> None:
    assert_error(
        api.post(f"/api/v1/searches/{search}/completions", body), RetCode.ARGUMENT_ERROR, message
    )


def test_completion_with_an_unknown_model_is_refused_before_streaming(api, facts) -> None:
    search_id = create(
        api, name="s", search_config={"kb_ids": [facts.pk], "chat_id": "nope@Nowhere"}
    )
    response = api.post(f"/api/v1/searches/{search_id}/completions", {"question": QUESTION})
    assert body_of(response) == {
        "code": RetCode.DATA_ERROR,
        "message": "Cannot use specified model nope@Nowhere.",
    }


def test_routes_need_a_key(api) -> None:
    anonymous = type(api)(None)
    for response in (
        anonymous.get("/api/v1/searches"),
        anonymous.post("/api/v1/searches", {"name": "x"}),
        anonymous.post("/api/v1/searches/x/completions", {"question": "q"}),
    ):
        body = json.loads(response.content)
        # v0.22 answers a missing key with a fake success (code 0, data false), v0.27 with 401.
        assert body["code"] != 0 or body["data"] is False
    assert not SearchApp.objects.exists()


def test_completion_summarises_with_the_apps_configured_model(api, facts, service) -> None:  # noqa: F811
    ModelProvider.objects.create(factory="Local", base_url=service.base_url, chat_models="qwen")
    service.reply = sse_reply("Kolguev has ", "4312 walruses [ID:0].")
    search_id = create(
        api,
        name="s",
        search_config={
            "kb_ids": [facts.pk],
            "chat_id": "qwen@Local",
            "llm_setting": {"temperature": 0.6, "top_p": 0.9, "top_p_enabled": False},
        },
    )
    events = sse_events(
        api.post(f"/api/v1/searches/{search_id}/completions", {"question": QUESTION})
    )
    assert [e["data"]["answer"] for e in events[:-2]] == ["Kolguev has ", "4312 walruses [ID:0]."]
    assert events[-2]["data"]["reference"]["chunks"][0]["content"].startswith("The walrus colony")
    (sent,) = service.requests
    assert sent["json"]["model"] == "qwen" and sent["json"]["temperature"] == 0.6
    assert sent["json"]["top_p"] == 0.3  # switched off: the default
    system = sent["json"]["messages"][0]["content"]
    assert "Summarize the information from knowledge bases" in system and "4312" in system
