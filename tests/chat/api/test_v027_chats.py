"""Chat assistants in both RAGFlow generations on one server (v0.27 contract §2.5, R1–R3, G1, G5).

`api` holds a v0.27 key (ragflow-sdk 0.27.3), `api22` a v0.22 key (ragflow-sdk 0.22.1).
"""

from __future__ import annotations

import pytest

from chat.api.schemas import V027_SYSTEM_PROMPT
from chat.models import DEFAULT_LLM_SETTING, DEFAULT_SYSTEM_PROMPT, Chat
from knowledge.models import Dataset
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

# Keys of the chat object, per generation (R3): every answer carries both sets.
V022_KEYS = {"avatar", "llm", "prompt", "datasets"}
V027_KEYS = {
    "icon",
    "llm_id",
    "tenant_llm_id",
    "llm_setting",
    "prompt_config",
    "kb_names",
    "similarity_threshold",
    "vector_similarity_weight",
    "top_n",
    "top_k",
    "rerank_id",
    "tenant_rerank_id",
}
SHARED_KEYS = {"id", "name", "description", "dataset_ids", "tenant_id", "status", "create_time"}


def create(client, **body) -> dict:
    return assert_ok(client.post("/api/v1/chats", body))


def assert_union(chat: dict) -> None:
    assert set(chat) >= SHARED_KEYS | V022_KEYS | V027_KEYS, set(chat) ^ (V022_KEYS | V027_KEYS)
    assert chat["avatar"] == chat["icon"]
    assert chat["llm"]["model_name"] == chat["llm_id"]


# --- POST /chats (R2) -----------------------------------------------------------------------------


def test_create_with_internal_names_gets_v027_defaults(api, facts: Dataset) -> None:
    # What ragflow-sdk 0.27.3's create_chat sends.
    chat = create(api, name="Miss R", icon="", dataset_ids=[facts.pk])
    assert_union(chat)
    assert chat["dataset_ids"] == [facts.pk] and chat["kb_names"] == ["facts"]
    assert chat["datasets"][0]["id"] == facts.pk
    assert chat["llm_setting"] == {} and chat["llm"]["temperature"] == 0.1  # effective value
    assert chat["similarity_threshold"] == pytest.approx(0.1)
    assert chat["top_n"] == 6 and chat["top_k"] == 1024 and chat["rerank_id"] == ""
    config = chat["prompt_config"]
    assert config["system"] == V027_SYSTEM_PROMPT
    assert config["parameters"] == [
        {"key": "knowledge", "optional": False},
        {"key": "date", "optional": True},
    ]
    assert config["quote"] is True and config["tts"] is False and config["refine_multiturn"] is True
    assert chat["prompt"]["prompt"] == V027_SYSTEM_PROMPT  # the same, under v0.22's name


def test_create_with_internal_names_keeps_what_is_sent(api) -> None:
    chat = create(
        api,
        name="tuned",
        llm_id="ragsite-extractive@Builtin",
        llm_setting={"temperature": 0.3},
        prompt_config={"system": "Be brief. {knowledge}", "prologue": "Yo"},
        similarity_threshold=0.4,
        vector_similarity_weight=0.6,
        top_n=3,
        unknown_column="dropped",
    )
    assert chat["llm_setting"] == {"temperature": 0.3}
    assert chat["prompt_config"]["system"] == "Be brief. {knowledge}"
    assert chat["prompt_config"]["prologue"] == "Yo"
    assert chat["prompt_config"]["empty_response"]  # filled in
    assert (chat["similarity_threshold"], chat["vector_similarity_weight"], chat["top_n"]) == (
        0.4,
        0.6,
        3,
    )
    assert "unknown_column" not in chat


def test_create_with_api_names_gets_v022_defaults_whatever_the_key(api) -> None:
    chat = create(api, name="old style", avatar="", llm={"temperature": 0.5})
    assert_union(chat)
    assert chat["llm_setting"] == {**DEFAULT_LLM_SETTING, "temperature": 0.5}
    assert chat["prompt_config"]["system"] == DEFAULT_SYSTEM_PROMPT
    assert chat["similarity_threshold"] == pytest.approx(0.2)
    assert chat["prompt_config"]["parameters"] == [{"key": "knowledge", "optional": False}]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"name": "x", "tenant_id": "t"}, RetCode.DATA_ERROR, "`tenant_id` must not be provided."),
        ({}, RetCode.DATA_ERROR, "`name` is required."),
        ({"name": 5}, RetCode.DATA_ERROR, "chat name must be a string"),
        ({"name": "x", "dataset_ids": "d"}, RetCode.DATA_ERROR, "`dataset_ids` should be a list."),
        (
            {"name": "x", "prompt_config": []},
            RetCode.DATA_ERROR,
            "`prompt_config` should be an object.",
        ),
        (
            {
                "name": "x",
                "prompt_config": {"parameters": [{"key": "a"}, {"key": "a", "optional": True}]},
            },
            RetCode.DATA_ERROR,
            "`parameters` contains duplicate key: a",
        ),
        (
            {"name": "x", "llm_id": "gpt@Nowhere"},
            RetCode.DATA_ERROR,
            "`llm_id` gpt@Nowhere doesn't exist",
        ),
        (
            {"name": "x", "llm_id": "ragsite-extractive@Builtin", "tenant_llm_id": "other@X"},
            RetCode.DATA_ERROR,
            "`llm_id` and `tenant_llm_id` must refer to the same model",
        ),
        (
            {"name": "x", "rerank_id": "ghost"},
            RetCode.DATA_ERROR,
            "`rerank_id` ghost doesn't exist",
        ),
        ({"name": "x", "top_n": "many"}, RetCode.ARGUMENT_ERROR, "top_n"),
    ],
)
def test_create_refusals_in_v027_words(api, body, code, message) -> None:
    assert_error(api.post("/api/v1/chats", body), code, message)
    assert not Chat.objects.exists()


def test_a_v027_create_does_not_require_prompt_variables_in_the_system_prompt(api) -> None:
    chat = create(api, name="x", prompt_config={"system": "no slot here"})
    assert chat["prompt_config"]["system"] == "no slot here"
    assert_error(
        api.post("/api/v1/chats", {"name": "y", "prompt": {"prompt": "no slot here"}}),
        RetCode.DATA_ERROR,
        "Parameter 'knowledge' is not used",  # a v0.22 body keeps v0.22's rule
    )


def test_duplicate_name_wording_follows_the_key(api, api22) -> None:
    create(api, name="Same")
    assert_error(
        api.post("/api/v1/chats", {"name": "same"}),
        RetCode.DATA_ERROR,
        "duplicated chat name in creating chat",
    )
    assert_error(
        api22.post("/api/v1/chats", {"name": "same"}),
        RetCode.DATA_ERROR,
        "Duplicated chat name in creating chat.",
    )


# --- GET /chats (G1) ------------------------------------------------------------------------------


def test_list_is_a_paged_object_for_v027_and_a_list_for_v022(api, api22) -> None:
    one, two = create(api, name="one"), create(api, name="two")
    data = assert_ok(api.get("/api/v1/chats", {"desc": "false"}))
    assert data["total"] == 2 and [c["id"] for c in data["chats"]] == [one["id"], two["id"]]
    assert_union(data["chats"][0])
    listed = assert_ok(api22.get("/api/v1/chats", {"desc": "false"}))
    assert [c["id"] for c in listed] == [one["id"], two["id"]]
    assert_union(listed[0])


def test_keywords_or_owner_ids_mean_v027_whatever_the_key(api22, tenant) -> None:
    create(api22, name="Walrus facts")
    create(api22, name="Seal facts")
    data = assert_ok(api22.get("/api/v1/chats", {"keywords": "WALRUS"}))
    assert data["total"] == 1 and data["chats"][0]["name"] == "Walrus facts"
    data = assert_ok(api22.get("/api/v1/chats", {"owner_ids": [tenant.pk]}))
    assert data["total"] == 2
    assert assert_ok(api22.get("/api/v1/chats", {"owner_ids": ["someone"]})) == {
        "chats": [],
        "total": 0,
    }


def test_the_generation_header_overrides_the_key(api, api22) -> None:
    create(api, name="one")
    as22 = api.client.get("/api/v1/chats", headers={**api.headers, "X-Ragsite-Generation": "v0.22"})
    assert isinstance(assert_ok(as22), list)
    as27 = api22.client.get(
        "/api/v1/chats", headers={**api22.headers, "X-Ragsite-Generation": "v0.27"}
    )
    assert assert_ok(as27)["total"] == 1


def test_list_defaults_that_differ_g8(api, api22) -> None:
    create(api, name="one")
    assert assert_ok(api.get("/api/v1/chats", {"id": "ghost"})) == {"chats": [], "total": 0}
    assert_error(
        api22.get("/api/v1/chats", {"id": "ghost"}), RetCode.DATA_ERROR, "The chat doesn't exist"
    )
    assert assert_ok(api.get("/api/v1/chats", {"page_size": 0}))["chats"]  # 0 means 30
    assert assert_ok(api22.get("/api/v1/chats", {"page_size": 0})) == []


def test_list_keywords_give_way_to_name_and_owner_ids_are_capped(api) -> None:
    create(api, name="Walrus")
    create(api, name="Seal")
    data = assert_ok(api.get("/api/v1/chats", {"keywords": "walrus", "name": "Seal"}))
    assert [c["name"] for c in data["chats"]] == ["Seal"]
    assert_error(
        api.get("/api/v1/chats", {"owner_ids": [f"id{i}" for i in range(101)]}),
        RetCode.ARGUMENT_ERROR,
        "owner_ids must contain at most 100 IDs",
    )


# --- GET / PUT / PATCH / DELETE /chats/{id} --------------------------------------------------------


def test_get_one_chat(api, api22, other_api, facts: Dataset) -> None:
    chat = create(api, name="mine", dataset_ids=[facts.pk])
    for client in (api, api22):
        fetched = assert_ok(client.get(f"/api/v1/chats/{chat['id']}"))
        assert_union(fetched)
        assert fetched["id"] == chat["id"] and fetched["kb_names"] == ["facts"]
    for chat_id in (chat["id"], "ghost"):
        assert body_of(other_api.get(f"/api/v1/chats/{chat_id}")) == {
            "code": RetCode.AUTHENTICATION_ERROR,
            "message": "no authorization",
            "data": False,
        }


def test_put_with_internal_names_replaces_settings_and_returns_the_chat(
    api, facts: Dataset
) -> None:
    chat = create(api, name="x", dataset_ids=[facts.pk], llm_setting={"temperature": 0.2})
    updated = assert_ok(
        api.put(
            f"/api/v1/chats/{chat['id']}",
            {"llm_setting": {"top_p": 0.5}, "prompt_config": {"system": "Hi {knowledge}"}},
        )
    )
    assert_union(updated)
    assert updated["llm_setting"] == {"top_p": 0.5}  # replaced wholesale
    assert updated["prompt_config"] == {"system": "Hi {knowledge}"}
    assert updated["dataset_ids"] == [facts.pk]  # absent: kept (R1)


def test_put_with_api_names_merges_under_either_key(api, api22) -> None:
    chat = create(api22, name="x", avatar="")
    for client, temperature in ((api, 0.6), (api22, 0.7)):
        updated = assert_ok(
            client.put(
                f"/api/v1/chats/{chat['id']}",
                {"llm": {"temperature": temperature}, "prompt": {"top_n": 9, "opener": "Hey"}},
            )
        )
        assert updated["llm"]["temperature"] == temperature
        assert updated["llm"]["max_tokens"] == 512  # merged, not replaced
        assert updated["top_n"] == 9 and updated["prompt_config"]["prologue"] == "Hey"


def test_patch_merges_one_level_deep(api) -> None:
    chat = create(api, name="x", llm_setting={"temperature": 0.2, "top_p": 0.4})
    url = f"/api/v1/chats/{chat['id']}"
    patched = assert_ok(
        api.patch(url, {"llm_setting": {"temperature": 0.9}, "prompt_config": {"prologue": "Yo"}})
    )
    assert patched["llm_setting"] == {"temperature": 0.9, "top_p": 0.4}
    assert patched["prompt_config"]["prologue"] == "Yo"
    assert patched["prompt_config"]["system"] == V027_SYSTEM_PROMPT
    assert patched["name"] == "x"
    assert_error(api.patch(url, {"name": ""}), RetCode.DATA_ERROR, "`name` cannot be empty")


def test_patch_takes_api_names_as_ragflow_sdk_0273_sends_them(api) -> None:
    """The seed walkthrough's step 6.2 through Chat.update of ragflow-sdk 0.27.3."""
    chat = create(api, name="Miss R", icon="", dataset_ids=[])
    patched = assert_ok(
        api.patch(
            f"/api/v1/chats/{chat['id']}",
            {"name": "Stefan", "llm": {"temperature": 0.8}, "prompt": {"top_n": 8}},
        )
    )
    (fresh,) = assert_ok(api.get("/api/v1/chats", {"id": chat["id"]}))["chats"]
    for seen in (patched, fresh):
        assert seen["name"] == "Stefan" and seen["llm"]["temperature"] == 0.8
        assert seen["prompt"]["top_n"] == 8


def test_updates_of_a_foreign_chat_answer_by_generation(api, other_api, other_api22) -> None:
    chat = create(api, name="mine")
    url = f"/api/v1/chats/{chat['id']}"
    for call in (other_api.put, other_api.patch, other_api22.patch, other_api.delete):
        assert body_of(call(url, {"name": "theirs"})) == {
            "code": RetCode.AUTHENTICATION_ERROR,
            "message": "no authorization",
            "data": False,
        }
    assert_error(
        other_api22.put(url, {"name": "theirs"}), RetCode.DATA_ERROR, "You do not own the chat"
    )
    assert Chat.objects.get(pk=chat["id"]).name == "mine"


def test_delete_one_chat(api) -> None:
    chat = create(api, name="gone")
    assert body_of(api.delete(f"/api/v1/chats/{chat['id']}")) == {"code": 0, "data": True}
    assert Chat.objects.get(pk=chat["id"]).status == "0"
    assert_error(api.get(f"/api/v1/chats/{chat['id']}"), RetCode.AUTHENTICATION_ERROR)


# --- DELETE /chats (G5) ---------------------------------------------------------------------------


def live_names() -> set[str]:
    return set(Chat.objects.filter(status="1").values_list("name", flat=True))


def test_bulk_delete_as_ragflow_sdk_0273_sends_it(api) -> None:
    one, two = create(api, name="one"), create(api, name="two")
    data = assert_ok(api.delete("/api/v1/chats", {"ids": [one["id"]], "delete_all": False}))
    assert data == {"success_count": 1} and live_names() == {"two"}
    assert body_of(api.delete("/api/v1/chats", {"ids": None, "delete_all": False})) == {
        "code": 0,
        "message": "success",
        "data": {},
    }
    assert live_names() == {"two"}
    assert assert_ok(api.delete("/api/v1/chats", {"delete_all": True})) == {"success_count": 1}
    assert live_names() == set() and two["id"]


def test_ids_null_without_delete_all_is_nothing_for_v027_and_all_for_v022(api, api22) -> None:
    create(api, name="one")
    assert assert_ok(api.delete("/api/v1/chats", {"ids": None})) == {}
    assert assert_ok(api.delete("/api/v1/chats")) == {}
    assert live_names() == {"one"}
    assert body_of(api22.delete("/api/v1/chats", {"ids": None})) == {"code": 0}
    assert live_names() == set()


def test_bulk_delete_of_the_older_chat_id_body(api) -> None:
    chat = create(api, name="one")
    assert assert_ok(api.delete("/api/v1/chats", {"chat_id": chat["id"]})) is True
    assert live_names() == set()


def test_bulk_delete_per_id_errors_in_each_generations_words(api, api22) -> None:
    chat = create(api, name="one")
    data = assert_ok(
        api.delete("/api/v1/chats", {"ids": [chat["id"], chat["id"], "ghost"], "delete_all": False})
    )
    assert data == {
        "success_count": 1,
        "errors": [f"Duplicate chat ids: {chat['id']}", "Chat(ghost) not found."],
    }
    assert_error(
        api22.delete("/api/v1/chats", {"ids": ["ghost"]}),
        RetCode.DATA_ERROR,
        "Assistant(ghost) not found.",
    )


def test_bulk_delete_refuses_malformed_json(api) -> None:
    create(api, name="one")
    response = api.client.delete(
        "/api/v1/chats", data=b'{"ids": [,]}', content_type="application/json", headers=api.headers
    )
    assert_error(response, RetCode.ARGUMENT_ERROR, "Malformed JSON")
    assert live_names() == {"one"}
