"""GET/POST /agents and GET/PUT/DELETE /agents/{id} in both RAGFlow generations (contract v0.27
§2.9, G2, G7, §2.10): the v0.22 answers for v0.22 keys, the v0.27 ones for v0.27 keys, and the
request's own signals (`id`/`title`, the v0.27 filters) over the key."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from ragsite.api.codes import RetCode
from ragsite.ids import new_id
from tests.agents.api.dsls import echo_dsl
from tests.conftest import ApiClient
from tests.helpers import assert_error, assert_ok, body_of

pytestmark = pytest.mark.django_db

V022 = {"X-Ragsite-Generation": "v0.22"}
V027 = {"X-Ragsite-Generation": "v0.27"}


def create(client: ApiClient, title: str, **extra: Any) -> Any:
    return assert_ok(client.post("/api/v1/agents", {"title": title, "dsl": echo_dsl(), **extra}))


def headers(client: ApiClient, extra: dict[str, str]) -> dict[str, str]:
    return {**client.headers, **extra}


# --- GET /agents (G2) -------------------------------------------------------------------------


def test_v022_list_is_a_list_of_full_rows_with_exact_filters(api22: ApiClient, tenant) -> None:
    create(api22, "first")
    create(api22, "second")
    rows = assert_ok(api22.get("/api/v1/agents"))
    assert [r["title"] for r in rows] == ["second", "first"]  # update_time, newest first
    assert rows[0]["dsl"]["components"]["begin"] and rows[0]["user_id"] == tenant.pk
    assert rows[0]["canvas_category"] == "agent_canvas" and rows[0]["permission"] == "me"
    (only,) = assert_ok(api22.get("/api/v1/agents", {"title": "first"}))
    assert only["title"] == "first"
    assert [r["id"] for r in assert_ok(api22.get("/api/v1/agents", {"id": only["id"]}))] == [
        only["id"]
    ]
    assert_error(
        api22.get("/api/v1/agents", {"title": "ghost"}),
        RetCode.DATA_ERROR,
        "The agent doesn't exist.",
    )
    # G8: page_size=0 returns nothing in v0.22.
    assert assert_ok(api22.get("/api/v1/agents", {"page_size": 0})) == []


def test_v027_list_is_a_paged_object(api: ApiClient, tenant) -> None:
    create(api, "first")
    create(api, "second", canvas_type="chatbot")
    body = body_of(api.get("/api/v1/agents", {"page_size": 1}))
    assert body["code"] == 0 and body["message"] == "success"
    data = body["data"]
    assert set(data) == {"canvas", "total"} and data["total"] == 2
    (item,) = data["canvas"]
    assert item["title"] == "second"  # orderby defaults to create_time, newest first
    assert item["tenant_id"] == tenant.pk and item["nickname"] == "alice"
    assert item["type"] == "agent" and item["tags"] == [] and item["canvas_type"] == "chatbot"
    assert item["dsl"]["components"]["begin"]  # the full row plus the v0.27 keys
    page2 = assert_ok(api.get("/api/v1/agents", {"page": 2, "page_size": 1}))
    assert [a["title"] for a in page2["canvas"]] == ["first"] and page2["total"] == 2
    # G8: page_size=0 reads as 30.
    assert len(assert_ok(api.get("/api/v1/agents", {"page_size": 0}))["canvas"]) == 2
    ascending = assert_ok(api.get("/api/v1/agents", {"desc": "false"}))["canvas"]
    assert [a["title"] for a in ascending] == ["first", "second"]


def test_v027_filters(api: ApiClient, tenant, other_tenant) -> None:
    create(api, "Walrus counter", description="counts animals")
    create(api, "Lighthouse", canvas_type="chatbot")
    create(api, "Pipeline", canvas_category="dataflow_canvas")

    def titles(**params: Any) -> list[str]:
        data = assert_ok(api.get("/api/v1/agents", params))
        assert data["total"] == len(data["canvas"])
        return sorted(a["title"] for a in data["canvas"])

    assert titles(keywords="walrus") == ["Walrus counter"]
    assert titles(keywords="ANIMALS") == ["Walrus counter"]  # the description too
    assert titles(canvas_category="dataflow_canvas") == ["Pipeline"]
    assert titles(canvas_category="agent_canvas,dataflow_canvas") == [
        "Lighthouse",
        "Pipeline",
        "Walrus counter",
    ]
    assert titles(canvas_type="chatbot") == ["Lighthouse"]
    assert titles(tags="faq") == []  # ragsite keeps no tags
    assert len(titles(owner_ids=tenant.pk)) == 3
    denied = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Only authorized owner_ids can be queried.",
        "data": False,
    }
    assert body_of(api.get("/api/v1/agents", {"owner_ids": f"{tenant.pk},{other_tenant.pk}"})) == (
        denied
    )
    many = ",".join(new_id() for _ in range(101))
    assert_error(api.get("/api/v1/agents", {"owner_ids": many}), RetCode.ARGUMENT_ERROR, "100")


def test_signals_in_the_request_decide_over_the_key(api: ApiClient, api22: ApiClient) -> None:
    create(api, "mine")
    # A v0.27 key sending v0.22's exact filters gets the v0.22 list.
    assert [a["title"] for a in assert_ok(api.get("/api/v1/agents", {"title": "mine"}))] == ["mine"]
    # A v0.22 key sending a v0.27 filter gets the paged object.
    assert assert_ok(api22.get("/api/v1/agents", {"keywords": "mi"}))["total"] == 1
    # The header decides over both.
    listed = api22.get("/api/v1/agents", headers=headers(api22, V027))
    assert assert_ok(listed)["total"] == 1
    assert isinstance(assert_ok(api.get("/api/v1/agents", headers=headers(api, V022))), list)
    # v0.27 ignores id and title when the header asks for it.
    forced = api.get("/api/v1/agents", {"title": "nothing"}, headers=headers(api, V027))
    assert assert_ok(forced)["total"] == 1


def test_nobody_lists_someone_elses_agents(api: ApiClient, other_api: ApiClient) -> None:
    create(other_api, "theirs")
    assert assert_ok(api.get("/api/v1/agents")) == {"canvas": [], "total": 0}


# --- GET /agents/{id} -------------------------------------------------------------------------


def test_get_one_agent(api: ApiClient, api22: ApiClient, other_api: ApiClient, tenant) -> None:
    created = create(api, "one", release=True)
    for client in (api, api22):  # a new route: the same answer for both generations
        body = body_of(client.get(f"/api/v1/agents/{created['id']}"))
        assert body["code"] == 0 and body["message"] == "success"
        data = body["data"]
        assert data["id"] == created["id"] and data["title"] == "one"
        assert data["dsl"]["components"]["Message:Echo"] and data["user_id"] == tenant.pk
        assert data["canvas_category"] == "agent_canvas" and data["nickname"] == "alice"
        assert data["last_publish_time"] == created["last_publish_time"] > 0
        assert {"create_time", "update_time", "avatar", "permission", "description"} <= set(data)
    missing = body_of(api.get(f"/api/v1/agents/{new_id()}"))
    assert missing == {"code": RetCode.DATA_ERROR, "message": "canvas not found."}
    assert body_of(other_api.get(f"/api/v1/agents/{created['id']}")) == missing


# --- POST /agents (G7) ------------------------------------------------------------------------


def test_create_answers_per_generation(api: ApiClient, api22: ApiClient) -> None:
    assert body_of(api22.post("/api/v1/agents", {"title": "old", "dsl": echo_dsl()})) == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    body = body_of(
        api.post(
            "/api/v1/agents",
            {
                "title": "  new  ",
                "dsl": echo_dsl(),
                "description": None,
                "canvas_type": "chatbot",
                "avatar": None,
            },
        )
    )
    assert body["code"] == 0 and body["message"] == "success"
    agent = body["data"]
    assert agent["title"] == "new" and agent["canvas_type"] == "chatbot"
    assert agent["canvas_category"] == "agent_canvas" and agent["description"] is None
    assert agent["last_publish_time"] is None
    stored = Agent.objects.get(pk=agent["id"])
    assert stored.title == "new" and stored.dsl["components"]["Message:Echo"]
    assert stored.dsl["globals"]["sys.query"] == ""  # normalised


def test_create_keeps_the_v022_leniency(api: ApiClient) -> None:
    import json

    created = assert_ok(
        api.post(
            "/api/v1/agents",
            {"title": "text dsl", "dsl": json.dumps(echo_dsl()), "description": 7, "x": 1},
        )
    )
    assert created["description"] == "7" and created["dsl"]["components"]["begin"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "x"}, "No DSL data in request."),
        ({"title": "x", "dsl": None}, "No DSL data in request."),
        ({"dsl": {"components": {}}}, "No title in request."),
        ({"title": "  ", "dsl": {"components": {}}}, "No title in request."),
        ({"title": "x", "dsl": {"components": {}}}, "Invalid DSL"),
        ({"title": "x", "dsl": "{not json"}, "The DSL is not valid JSON."),
        ({"title": "x", "dsl": [1]}, "Invalid DSL: The DSL must be a JSON object."),
        ({"title": "x", "dsl": "ECHO", "canvas_category": "x"}, "`canvas_category` should be"),
        ({"title": "x", "dsl": "ECHO", "canvas_type": ["a"]}, "`canvas_type` should be a string."),
        ({"title": "x", "dsl": "ECHO", "canvas_type": "t" * 65}, "at most 64 characters"),
        ({"title": "x", "dsl": "ECHO", "avatar": {"a": 1}}, "`avatar` should be a string."),
    ],
)
def test_create_refusals(api: ApiClient, api22: ApiClient, body: dict, message: str) -> None:
    if body.get("dsl") == "ECHO":
        body = {**body, "dsl": echo_dsl()}
    for client in (api, api22):
        assert_error(client.post("/api/v1/agents", body), RetCode.ARGUMENT_ERROR, message)
    assert not Agent.objects.exists()


def test_duplicate_titles_in_each_generations_words(api: ApiClient, api22: ApiClient) -> None:
    create(api, "Walrus")
    for title in ("Walrus", "walrus "):  # case-insensitive, as RAGFlow's MySQL compares
        assert body_of(api22.post("/api/v1/agents", {"title": title, "dsl": echo_dsl()})) == {
            "code": RetCode.DATA_ERROR,
            "message": f"Agent with title {title.strip()} already exists.",
        }
        assert body_of(api.post("/api/v1/agents", {"title": title, "dsl": echo_dsl()})) == {
            "code": RetCode.DATA_ERROR,
            "message": f"{title.strip()} already exists.",
        }
    assert Agent.objects.count() == 1


# --- PUT /agents/{id} (G7) --------------------------------------------------------------------


def test_update_answers_per_generation(api: ApiClient, api22: ApiClient) -> None:
    agent = create(api, "before")
    url = f"/api/v1/agents/{agent['id']}"
    assert body_of(api22.put(url, {"description": "d"})) == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    body = body_of(api.put(url, {"canvas_type": "chatbot", "title": None}))
    assert body["code"] == 0 and set(body["data"]) == {"update_time"}
    stored = Agent.objects.get(pk=agent["id"])
    assert body["data"]["update_time"] == int(stored.updated_at.timestamp() * 1000)
    assert stored.title == "before" and stored.description == "d"
    assert stored.canvas_type == "chatbot"


def test_a_dsl_without_a_title_updates(api: ApiClient, api22: ApiClient) -> None:
    agent = create(api, "keeps its title")
    url = f"/api/v1/agents/{agent['id']}"
    for client in (api, api22):
        assert_ok(client.put(url, {"dsl": echo_dsl("New opener")}))
    stored = Agent.objects.get(pk=agent["id"])
    assert stored.title == "keeps its title"
    assert stored.dsl["components"]["begin"]["obj"]["params"]["prologue"] == "New opener"
    assert stored.published_at is None
    assert_ok(api.put(url, {"dsl": echo_dsl(), "release": True}))
    assert Agent.objects.get(pk=agent["id"]).published_at is not None
    assert_error(api.put(url, {"dsl": {"components": {}}}), RetCode.ARGUMENT_ERROR, "Invalid DSL")


def test_update_refusals_per_generation(
    api: ApiClient, api22: ApiClient, other_api: ApiClient, other_api22: ApiClient
) -> None:
    agent = create(api, "mine")
    create(api, "taken")
    url = f"/api/v1/agents/{agent['id']}"
    old = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Only owner of canvas authorized for this operation.",
        "data": False,
    }
    new = {
        "code": RetCode.OPERATING_ERROR,
        "message": "Make sure you have permission to access the agent.",
        "data": False,
    }
    for path in (url, f"/api/v1/agents/{new_id()}"):  # foreign and missing alike
        assert body_of(other_api22.put(path, {"title": "stolen"})) == old
        assert body_of(other_api.put(path, {"title": "stolen"})) == new
    assert_error(api22.put(url, {"title": "TAKEN"}), RetCode.DATA_ERROR, "Agent with title TAKEN")
    assert body_of(api.put(url, {"title": "TAKEN"})) == {
        "code": RetCode.DATA_ERROR,
        "message": "TAKEN already exists.",
    }
    assert Agent.objects.get(pk=agent["id"]).title == "mine"


# --- DELETE /agents/{id} ----------------------------------------------------------------------


def test_delete_per_generation(
    api: ApiClient, api22: ApiClient, other_api: ApiClient, other_api22: ApiClient
) -> None:
    first, second = create(api, "first"), create(api, "second")
    for agent_id in (first["id"], new_id()):
        assert body_of(other_api22.delete(f"/api/v1/agents/{agent_id}", {})) == {
            "code": RetCode.OPERATING_ERROR,
            "message": "Only owner of canvas authorized for this operation.",
            "data": False,
        }
        assert body_of(other_api.delete(f"/api/v1/agents/{agent_id}", {})) == {
            "code": RetCode.OPERATING_ERROR,
            "message": "Only the owner of the agent is authorized for this operation.",
            "data": False,
        }
    for client, agent in ((api22, first), (api, second)):
        assert body_of(client.delete(f"/api/v1/agents/{agent['id']}", {})) == {
            "code": 0,
            "message": "success",
            "data": True,
        }
    assert not Agent.objects.exists()
