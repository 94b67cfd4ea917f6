"""/api/v1/memories and /api/v1/messages (RAGFlow v0.27, contract v0.27 §3.10): envelopes and
error texts as RAGFlow's, tenancy, search by meaning with the memory's embedding model, and
extraction into semantic/episodic/procedural messages by the memory's chat model."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Memory, MemoryMessage
from agents.services.memories import NO_CHAT_MODEL
from ragsite.api.codes import RetCode
from tests.agents.memory_llm import answer_memory, is_memory_prompt
from tests.conftest import ApiClient
from tests.helpers import assert_error, body_of
from tests.llm_server import LLMServer

pytestmark = pytest.mark.django_db

MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
EXTRACTIVE = "ragsite-extractive@Builtin"


def ok(response: Any) -> Any:
    body = body_of(response)
    assert body["code"] == 0 and body["message"] is True, body
    return body["data"]


def create(client: ApiClient, name: str, types: list[str] | None = None, **extra: Any) -> Any:
    payload = {
        "name": name,
        "memory_type": types or ["raw"],
        "embd_id": MINILM,
        "llm_id": EXTRACTIVE,
        **extra,
    }
    return ok(client.post("/api/v1/memories", payload))


def add(client: ApiClient, memory_ids: list[str], user_input: str, answer: str, **extra: Any):
    return client.post(
        "/api/v1/messages",
        {
            "memory_id": memory_ids,
            "agent_id": extra.pop("agent_id", "agent-1"),
            "session_id": extra.pop("session_id", "session-1"),
            "user_input": user_input,
            "agent_response": answer,
            **extra,
        },
    )


# --- memories ---------------------------------------------------------------------------------


def test_create_returns_the_memory_object_with_message_true(api: ApiClient, tenant) -> None:
    data = create(api, "  notes  ", ["raw", "semantic"])
    assert data["name"] == "notes" and data["tenant_id"] == tenant.pk
    assert data["memory_type"] == ["raw", "semantic"] and data["storage_type"] == "table"
    assert data["permissions"] == "me" and data["memory_size"] == 5 * 1024 * 1024
    assert data["forgetting_policy"] == "FIFO" and data["temperature"] == 0.5
    assert data["avatar"] is None and data["description"] is None and data["user_prompt"] is None
    assert "EXTRACT SEMANTIC KNOWLEDGE" in data["system_prompt"]
    assert "EPISODIC" not in data["system_prompt"]
    assert isinstance(data["create_time"], int) and data["create_date"].endswith("GMT")
    # A duplicate name is suffixed, as RAGFlow's duplicate_name does.
    assert create(api, "notes")["name"] == "notes(1)"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "x", "memory_type": ["raw"]}, "required argument are missing: embd_id,llm_id; "),
        ({"name": "   "}, "Memory name cannot be empty or whitespace."),
        ({"name": "n" * 129}, "exceeds limit of 128."),
        ({"memory_type": "raw"}, "Memory type must be a list."),
        ({"memory_type": ["raw", "dreams"]}, "Memory type '{'dreams'}' is not supported."),
        ({"embd_id": "nope@Nowhere"}, "Unsupported model: <nope@Nowhere>"),
        ({"llm_id": "nope@Nowhere"}, "Unsupported model: <nope@Nowhere>"),
        ({"embd_id": 5}, "`embd_id` should be a string."),
    ],
)
def test_create_refuses_bad_arguments_with_101(api: ApiClient, payload, message) -> None:
    full = {"name": "m", "memory_type": ["raw"], "embd_id": MINILM, "llm_id": EXTRACTIVE}
    body = payload if "required" in message else {**full, **payload}
    assert_error(api.post("/api/v1/memories", body), RetCode.ARGUMENT_ERROR, message)
    assert not Memory.objects.exists()


def test_malformed_bodies_are_101_never_500(api: ApiClient) -> None:
    for path in ("/api/v1/memories", "/api/v1/messages"):
        response = api.post(path, "{nope", content_type="application/json")
        assert_error(response, RetCode.ARGUMENT_ERROR)
        assert_error(api.post(path, [1, 2]), RetCode.ARGUMENT_ERROR)


def test_list_pages_filters_and_counts(api: ApiClient, other_api: ApiClient, tenant) -> None:
    first = create(api, "alpha notes", ["raw"])
    second = create(api, "beta notes", ["raw", "episodic"])
    create(other_api, "foreign notes")
    data = ok(api.get("/api/v1/memories"))
    assert data["total_count"] == 2
    assert [m["id"] for m in data["memory_list"]] == [second["id"], first["id"]]
    assert data["memory_list"][0]["embd_name"] == MINILM
    assert data["memory_list"][0]["owner_name"] == tenant.get_username()
    page = ok(api.get("/api/v1/memories", {"page": 2, "page_size": 1}))
    assert [m["id"] for m in page["memory_list"]] == [first["id"]] and page["total_count"] == 2
    assert ok(api.get("/api/v1/memories", {"keywords": "BETA"}))["total_count"] == 1
    by_type = ok(api.get("/api/v1/memories", {"memory_type": "episodic"}))
    assert [m["id"] for m in by_type["memory_list"]] == [second["id"]]
    # Repeated parameters (what the SDK sends) and comma-separated ones both work.
    both = api.client.get(
        f"/api/v1/memories?ids={first['id']}&ids={second['id']}", headers=api.headers
    )
    assert ok(both)["total_count"] == 2
    assert ok(api.get("/api/v1/memories", {"ids": f"{first['id']},x"}))["total_count"] == 1
    assert_error(
        api.get("/api/v1/memories", {"page_size": 101}),
        RetCode.ARGUMENT_ERROR,
        "page_size must be less than or equal to 100",
    )
    many = ",".join(f"id{i}" for i in range(101))
    assert_error(
        api.get("/api/v1/memories", {"ids": many}),
        RetCode.ARGUMENT_ERROR,
        "ids must contain at most 100 IDs",
    )


def test_update_config_and_delete(api: ApiClient, tenant) -> None:
    memory = create(api, "notes", ["raw"])
    path = f"/api/v1/memories/{memory['id']}"
    updated = ok(
        api.put(
            path,
            {
                "name": "renamed",
                "permissions": "team",
                "memory_type": ["raw", "procedural"],
                "memory_size": 2048,
                "temperature": 0.1,
                "description": "what we said",
                "ignored": 1,
            },
        )
    )
    assert updated["name"] == "renamed" and updated["permissions"] == "team"
    assert updated["memory_type"] == ["raw", "procedural"] and updated["memory_size"] == 2048
    assert updated["temperature"] == 0.1 and updated["description"] == "what we said"
    # The type changed while the prompt was the default: the prompt was rebuilt.
    assert "PROCEDURAL" in updated["system_prompt"]
    config = ok(api.get(f"{path}/config"))
    assert config["owner_name"] == tenant.get_username() and config["name"] == "renamed"
    for change, message in [
        ({"permissions": "world"}, "Unknown permission 'world'."),
        ({"memory_size": 10485761}, "Memory size should be in range (0, 10485760] Bytes."),
        ({"forgetting_policy": "LRU"}, "Forgetting policy 'LRU' is not supported."),
        ({"temperature": 2}, "Temperature should be in range [0, 1]."),
        ({"temperature": "hot"}, "Temperature should be in range [0, 1]."),
        ({"name": ""}, "Memory name cannot be empty or whitespace."),
    ]:
        assert_error(api.put(path, change), RetCode.ARGUMENT_ERROR, message)
    assert ok(api.delete(path)) is None
    assert_error(
        api.get(f"{path}/config"), RetCode.NOT_FOUND, f"Memory '{memory['id']}' not found."
    )
    assert_error(api.delete(path), RetCode.NOT_FOUND)


def test_embedding_model_and_types_are_fixed_once_the_memory_holds_messages(
    api: ApiClient, django_capture_on_commit_callbacks
) -> None:
    memory = create(api, "notes", ["raw"])
    with django_capture_on_commit_callbacks(execute=True):
        assert body_of(add(api, [memory["id"]], "hi", "hello"))["code"] == 0
    path = f"/api/v1/memories/{memory['id']}"
    assert_error(
        api.put(path, {"memory_type": ["raw", "semantic"]}),
        RetCode.ARGUMENT_ERROR,
        "Can't update ['memory_type'] when memory isn't empty.",
    )
    # Unchanged input is no change at all.
    assert ok(api.put(path, {"memory_type": ["raw"], "embd_id": MINILM}))["id"] == memory["id"]


def test_another_tenants_memory_ids_are_refused(
    api: ApiClient, other_api: ApiClient, django_capture_on_commit_callbacks
) -> None:
    mine = create(api, "mine")
    with django_capture_on_commit_callbacks(execute=True):
        ok_body = body_of(add(api, [mine["id"]], "The vault code is 7741.", "Noted."))
    assert ok_body == {"code": 0, "message": "All add to task.", "data": None}
    message_id = MemoryMessage.objects.get().pk
    path = f"/api/v1/memories/{mine['id']}"
    not_found = f"Memory '{mine['id']}' not found."
    assert_error(other_api.get(path), RetCode.NOT_FOUND, not_found)
    assert_error(other_api.get(f"{path}/config"), RetCode.NOT_FOUND, not_found)
    assert_error(other_api.put(path, {"name": "stolen"}), RetCode.NOT_FOUND, not_found)
    assert_error(other_api.delete(path), RetCode.NOT_FOUND, not_found)
    one = f"/api/v1/messages/{mine['id']}:{message_id}"
    assert_error(other_api.get(f"{one}/content"), RetCode.NOT_FOUND, not_found)
    assert_error(other_api.put(one, {"status": False}), RetCode.NOT_FOUND, not_found)
    assert_error(other_api.delete(one), RetCode.NOT_FOUND, not_found)
    assert_error(
        add(other_api, [mine["id"]], "x", "y"),
        RetCode.SERVER_ERROR,
        "Some messages failed to add. Detail:Memory not found.",
    )
    assert (
        ok(other_api.get("/api/v1/messages/search", {"memory_id": mine["id"], "query": "vault"}))
        == []
    )
    assert ok(other_api.get("/api/v1/messages", {"memory_id": mine["id"]})) == []
    assert ok(other_api.get("/api/v1/memories", {"ids": mine["id"]}))["total_count"] == 0
    # Nothing changed.
    assert Memory.objects.get(pk=mine["id"]).name == "mine"
    message = MemoryMessage.objects.get()
    assert message.status and message.forget_at is None and MemoryMessage.objects.count() == 1


# --- messages ---------------------------------------------------------------------------------


def test_add_without_a_chat_model_stores_raw_and_says_no_extraction(
    api: ApiClient, django_capture_on_commit_callbacks
) -> None:
    memory = create(api, "notes", ["raw", "semantic", "episodic"])
    other = create(api, "other")
    with django_capture_on_commit_callbacks(execute=True):
        response = add(api, [memory["id"], "missing-id"], "My cat is called Miso.", "Nice name!")
    assert_error(response, RetCode.SERVER_ERROR, "Detail:Memory ['missing-id'] not found.")
    (raw,) = MemoryMessage.objects.filter(memory_id=memory["id"])
    assert raw.message_type == "raw" and raw.embedding_dim == 384
    assert raw.content == "User Input: My cat is called Miso.\nAgent Response: Nice name!"
    data = ok(api.get(f"/api/v1/memories/{memory['id']}"))
    (item,) = data["messages"]["message_list"]
    assert data["messages"]["total_count"] == 1 and data["storage_type"] == "table"
    assert item["message_id"] == raw.pk and item["extract"] == []
    assert item["agent_name"] == "Unknown" and item["task"]["progress"] == 1.0
    assert NO_CHAT_MODEL.format(model=EXTRACTIVE) in item["task"]["progress_msg"]
    assert not MemoryMessage.objects.filter(memory_id=other["id"]).exists()


def test_search_finds_by_meaning_and_skips_disabled_and_forgotten(
    api: ApiClient, django_capture_on_commit_callbacks
) -> None:
    memory = create(api, "notes")
    turns = [
        ("My dog Rex loves chasing tennis balls in the park.", "Sounds fun."),
        ("I am allergic to peanuts and must avoid them.", "I will remember that."),
        ("The quarterly report is due next Friday.", "Noted."),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for question, answer in turns:
            assert body_of(add(api, [memory["id"]], question, answer))["code"] == 0
    search = "/api/v1/messages/search"
    params = {"memory_id": memory["id"], "query": "which foods cause an allergic reaction"}
    hits = ok(api.get(search, {**params, "top_n": 1}))
    assert len(hits) == 1 and "peanuts" in hits[0]["content"]
    assert hits[0]["memory_id"] == memory["id"] and hits[0]["message_type"] == "raw"
    # The vector side counts: a purely semantic query with no shared word still finds Rex.
    pets = ok(api.get(search, {"memory_id": memory["id"], "query": "puppy", "top_n": 1}))
    assert "Rex" in pets[0]["content"]
    peanut = MemoryMessage.objects.get(content__contains="peanuts")
    one = f"/api/v1/messages/{memory['id']}:{peanut.pk}"
    assert ok(api.put(one, {"status": False})) is None
    assert all("peanuts" not in h["content"] for h in ok(api.get(search, params)))
    assert ok(api.put(one, {"status": True})) is None
    assert "peanuts" in ok(api.get(search, {**params, "top_n": 1}))[0]["content"]
    assert ok(api.delete(one)) is None
    assert all("peanuts" not in h["content"] for h in ok(api.get(search, params)))
    recent = ok(api.get("/api/v1/messages", {"memory_id": memory["id"], "limit": 5}))
    assert [m["content"].split("\n")[0] for m in recent] == [
        "User Input: The quarterly report is due next Friday.",
        "User Input: My dog Rex loves chasing tennis balls in the park.",
    ]
    content = ok(api.get(f"{one}/content"))
    assert content["id"] == f"{memory['id']}_{peanut.pk}" and len(content["content_embed"]) == 384
    assert content["forget_at"] is not None


def test_message_routes_refuse_bad_input(api: ApiClient) -> None:
    memory = create(api, "notes")
    one = f"/api/v1/messages/{memory['id']}:1"
    assert_error(
        api.put(one, {"status": "yes"}), RetCode.ARGUMENT_ERROR, "Status must be a boolean."
    )
    assert_error(api.put(one, {}), RetCode.ARGUMENT_ERROR, "required argument are missing: status")
    assert_error(api.put(one, {"status": True}), RetCode.NOT_FOUND, "Message '1' in memory")
    assert_error(api.get(f"{one}/content"), RetCode.NOT_FOUND)
    huge = f"/api/v1/messages/{memory['id']}:{'9' * 30}"
    assert body_of(api.delete(huge))["code"] != 0
    assert_error(api.get("/api/v1/messages"), RetCode.ARGUMENT_ERROR, "memory_ids is required.")
    assert_error(
        api.get("/api/v1/messages", {"memory_id": memory["id"], "limit": 101}),
        RetCode.ARGUMENT_ERROR,
    )
    assert_error(
        api.get("/api/v1/messages/search", {"memory_id": memory["id"], "top_n": "many"}),
        RetCode.ARGUMENT_ERROR,
    )
    assert_error(
        api.post("/api/v1/messages", {"memory_id": [memory["id"]]}),
        RetCode.ARGUMENT_ERROR,
        "required argument are missing: agent_id,session_id,user_input,agent_response; ",
    )
    assert_error(add(api, [memory["id"]], 5, "x"), RetCode.ARGUMENT_ERROR, "`user_input` should be")
    assert_error(add(api, {"x": 1}, "a", "b"), RetCode.ARGUMENT_ERROR, "`memory_id` should be")


# --- extraction with a chat model ---------------------------------------------------------------


def test_extraction_uses_the_memorys_chat_model(
    api: ApiClient, llm_server: LLMServer, llm_provider, django_capture_on_commit_callbacks
) -> None:
    llm_server.register(is_memory_prompt, answer_memory)
    memory = create(api, "learnt", ["raw", "semantic", "episodic"], llm_id="tiny@TestLLM")
    with django_capture_on_commit_callbacks(execute=True):
        response = add(api, [memory["id"]], "Our office moved to Lyon in March.", "Got it.")
    assert body_of(response)["message"] == "All add to task."
    (request,) = llm_server.requests
    assert request["model"] == "tiny" and request["temperature"] == 0.5
    assert "Our office moved to Lyon in March." in request["messages"][-1]["content"]
    derived = MemoryMessage.objects.exclude(message_type="raw").order_by("message_type")
    assert [(m.message_type, m.content) for m in derived] == [
        ("episodic", "User said: Our office moved to Lyon in March."),
        ("semantic", "Fact: Our office moved to Lyon in March."),
    ]
    raw = MemoryMessage.objects.get(message_type="raw")
    assert all(m.source_id == raw.pk and m.embedding_dim == 384 for m in derived)
    data = ok(api.get(f"/api/v1/memories/{memory['id']}"))
    (item,) = data["messages"]["message_list"]
    assert sorted(e["message_type"] for e in item["extract"]) == ["episodic", "semantic"]
    assert item["task"]["progress"] == 1.0
    assert "Message saved successfully." in item["task"]["progress_msg"]
    hits = ok(
        api.get("/api/v1/messages/search", {"memory_id": memory["id"], "query": "Lyon office"})
    )
    assert {h["message_type"] for h in hits} >= {"semantic", "episodic"}


def test_a_failing_chat_model_marks_the_task_failed(
    api: ApiClient, llm_server: LLMServer, llm_provider, django_capture_on_commit_callbacks
) -> None:
    llm_server.fail_with(503, "overloaded")
    memory = create(api, "learnt", ["raw", "semantic"], llm_id="tiny@TestLLM")
    with django_capture_on_commit_callbacks(execute=True):
        assert body_of(add(api, [memory["id"]], "a", "b"))["code"] == 0
    raw = MemoryMessage.objects.get()
    assert raw.task_progress == -1.0 and "Extraction failed" in raw.task_log
    assert MemoryMessage.objects.count() == 1


def test_fifo_forgets_the_oldest_messages_past_the_size_limit(
    api: ApiClient, django_capture_on_commit_callbacks
) -> None:
    memory = create(api, "small")
    # One raw message is its content plus 8 bytes × 384 dimensions, about 3.1 KB.
    ok(api.put(f"/api/v1/memories/{memory['id']}", {"memory_size": 7000}))
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            assert body_of(add(api, [memory["id"]], f"turn {n}", "ok"))["code"] == 0
    kept = [m.content.split("\n")[0] for m in MemoryMessage.objects.order_by("message_id")]
    assert kept == ["User Input: turn 1", "User Input: turn 2"]


def test_team_memories_are_shared_with_team_mates_only(
    api: ApiClient, other_api: ApiClient, tenant, other_tenant
) -> None:
    from django.contrib.auth.models import Group

    shared = create(api, "shared")
    private = create(api, "private")
    ok(api.put(f"/api/v1/memories/{shared['id']}", {"permissions": "team"}))
    # Not in a team yet: the team memory is still invisible.
    assert ok(other_api.get("/api/v1/memories"))["total_count"] == 0
    team = Group.objects.create(name="walrus team")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    rows = ok(other_api.get("/api/v1/memories"))["memory_list"]
    assert [m["id"] for m in rows] == [shared["id"]]
    assert ok(other_api.get(f"/api/v1/memories/{shared['id']}/config"))["name"] == "shared"
    assert_error(other_api.get(f"/api/v1/memories/{private['id']}/config"), RetCode.NOT_FOUND)
