"""Chat assistants and sessions on literal paths (contract §5, §6.1–§6.2)."""

from __future__ import annotations

import io

import pytest

from chat.models import DEFAULT_SYSTEM_PROMPT, Chat
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok

SDK_PROMPT = {
    "similarity_threshold": 0.2,
    "keywords_similarity_weight": 0.7,
    "top_n": 8,
    "top_k": 1024,
    "variables": [{"key": "knowledge", "optional": True}],
    "rerank_model": "",
    "empty_response": None,
    "opener": "Hi! I'm your assistant. What can I do for you?",
    "show_quote": True,
    "prompt": "You are an intelligent assistant. {knowledge}",
}


@pytest.fixture
def dataset(api22) -> dict:
    data = assert_ok(api22.post("/api/v1/datasets", {"name": "kb"}))
    part = io.BytesIO(b"x")
    part.name = "facts.txt"
    (doc,) = assert_ok(
        api22.client.post(
            f"/api/v1/datasets/{data['id']}/documents", {"file": [part]}, headers=api22.headers
        )
    )
    assert_ok(
        api22.post(
            f"/api/v1/datasets/{data['id']}/documents/{doc['id']}/chunks",
            {"content": "The walrus colony on Kolguev island was counted at 4312 animals in 2019."},
        )
    )
    return data


def create(api22, **body) -> dict:
    return assert_ok(api22.post("/api/v1/chats", body))


def test_create_with_a_v022_body_gets_v022_defaults(api22, tenant) -> None:
    # `avatar` makes it a v0.22 body (R2); a bare name gets v0.27's defaults (test_v027_chats).
    chat = create(api22, name="assistant", avatar="")
    assert len(chat["id"]) == 32 and chat["tenant_id"] == tenant.pk and chat["status"] == "1"
    assert chat["dataset_ids"] == [] and chat["description"] == "A helpful Assistant"
    assert chat["llm"]["model_name"] == "ragsite-extractive@Builtin"
    assert chat["llm"]["temperature"] == 0.1 and chat["llm"]["max_tokens"] == 512
    prompt = chat["prompt"]
    assert prompt["prompt"] == DEFAULT_SYSTEM_PROMPT
    assert prompt["opener"] == "Hi! I'm your assistant. What can I do for you?"
    assert prompt["variables"] == [{"key": "knowledge", "optional": False}]
    assert prompt["top_n"] == 6 and prompt["show_quote"] is True
    assert prompt["keywords_similarity_weight"] == pytest.approx(0.7)
    assert prompt["empty_response"] == "Sorry! No relevant content was found in the knowledge base!"


def test_create_as_the_sdk_does_keeps_the_weight_asymmetry(api22, dataset) -> None:
    chat = create(
        api22,
        name="Miss R",
        avatar="",
        dataset_ids=[dataset["id"]],
        llm={
            "model_name": None,
            "temperature": 0.1,
            "top_p": 0.3,
            "presence_penalty": 0.4,
            "frequency_penalty": 0.7,
            "max_tokens": 512,
        },
        prompt=SDK_PROMPT,
    )
    assert chat["prompt"]["keywords_similarity_weight"] == pytest.approx(0.3)
    assert chat["prompt"]["top_n"] == 8 and chat["prompt"]["empty_response"] is None
    assert chat["dataset_ids"] == [dataset["id"]]
    assert Chat.objects.get(pk=chat["id"]).vector_similarity_weight == 0.7


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, RetCode.DATA_ERROR, "`name` is required."),
        ({"name": "  "}, RetCode.DATA_ERROR, "`name` is required."),
        (
            {"name": "x", "dataset_ids": ["ghost"]},
            RetCode.DATA_ERROR,
            "You don't own the dataset ghost",
        ),
        (
            {"name": "x", "llm": {"model_name": "gpt-x@Nowhere"}},
            RetCode.DATA_ERROR,
            "`model_name` gpt-x@Nowhere doesn't exist",
        ),
        (
            {"name": "x", "prompt": {"rerank_model": "ghost"}},
            RetCode.DATA_ERROR,
            "`rerank_model` ghost doesn't exist",
        ),
        ({"name": "x", "tenant_id": "t"}, RetCode.DATA_ERROR, "`tenant_id` must not be provided."),
        (
            {"name": "x", "prompt": {"prompt": "no slot here"}},
            RetCode.DATA_ERROR,
            "Parameter 'knowledge' is not used",
        ),
    ],
)
def test_create_validates(api22, body, code, message) -> None:
    assert_error(api22.post("/api/v1/chats", body), code, message)
    assert not Chat.objects.exists()


def test_create_requires_parsed_datasets_with_one_embedding_model(api22) -> None:
    empty = assert_ok(api22.post("/api/v1/datasets", {"name": "empty"}))
    assert_error(
        api22.post("/api/v1/chats", {"name": "x", "dataset_ids": [empty["id"]]}),
        RetCode.DATA_ERROR,
        f"The dataset {empty['id']} doesn't own parsed file",
    )


def test_duplicate_names_and_soft_delete(api22) -> None:
    chat = create(api22, name="Same")
    assert_error(
        api22.post("/api/v1/chats", {"name": "same"}),
        RetCode.DATA_ERROR,
        "Duplicated chat name in creating chat.",
    )
    assert_ok(api22.delete("/api/v1/chats", {"ids": [chat["id"]]}))
    assert create(api22, name="same")["name"] == "same"


def test_list_filters_and_shapes(api22, dataset) -> None:
    first = create(api22, name="one", dataset_ids=[dataset["id"]])
    create(api22, name="two")
    data = assert_ok(api22.get("/api/v1/chats", {"desc": "False"}))
    assert [c["name"] for c in data] == ["one", "two"]
    assert data[0]["datasets"][0]["id"] == dataset["id"] and data[0]["datasets"][0]["embd_id"]
    assert data[0]["dataset_ids"] == [dataset["id"]] and data[0]["top_k"] == 1024
    assert [c["id"] for c in assert_ok(api22.get("/api/v1/chats", {"id": first["id"]}))] == [
        first["id"]
    ]
    assert [c["id"] for c in assert_ok(api22.get("/api/v1/chats", {"name": "one"}))] == [
        first["id"]
    ]
    assert_error(
        api22.get("/api/v1/chats", {"name": "ghost"}), RetCode.DATA_ERROR, "The chat doesn't exist"
    )
    assert len(assert_ok(api22.get("/api/v1/chats", {"page": 2, "page_size": 1}))) == 1


def test_update_merges_and_keeps_datasets_unless_sent(api22, dataset) -> None:
    chat = create(api22, name="x", dataset_ids=[dataset["id"]])
    url = f"/api/v1/chats/{chat['id']}"
    # R1: the chat comes back (ragflow-sdk 0.22 reads only `code`).
    updated = assert_ok(
        api22.put(url, {"name": "Stefan", "llm": {"temperature": 0.8}, "prompt": {"top_n": 8}})
    )
    assert updated["id"] == chat["id"] and updated["name"] == "Stefan"
    (fresh,) = assert_ok(api22.get("/api/v1/chats", {"id": chat["id"]}))
    assert (
        fresh["name"] == "Stefan"
        and fresh["llm"]["temperature"] == 0.8
        and fresh["prompt"]["top_n"] == 8
    )
    assert fresh["llm"]["max_tokens"] == 512 and fresh["dataset_ids"] == [dataset["id"]]
    assert_ok(api22.put(url, {"dataset_ids": []}))
    assert assert_ok(api22.get("/api/v1/chats", {"id": chat["id"]}))[0]["dataset_ids"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "`name` cannot be empty."),
        ({"name": "Other"}, "Duplicated chat name in updating chat."),
        ({"llm": {"model_name": "ghost@Nowhere"}}, "`model_name` ghost@Nowhere doesn't exist"),
        ({"prompt": {"prompt": "no slot"}}, "Parameter 'knowledge' is not used"),
    ],
)
def test_update_validates(api22, body, message) -> None:
    create(api22, name="other")
    chat = create(api22, name="x")
    assert_error(api22.put(f"/api/v1/chats/{chat['id']}", body), RetCode.DATA_ERROR, message)


def test_delete_semantics(api22) -> None:
    one, two = create(api22, name="one"), create(api22, name="two")
    data = assert_ok(api22.delete("/api/v1/chats", {"ids": [one["id"], one["id"], "ghost"]}))
    assert data == {
        "success_count": 1,
        "errors": [f"Duplicate assistant ids: {one['id']}", "Assistant(ghost) not found."],
    }
    assert_error(
        api22.delete("/api/v1/chats", {"ids": ["ghost"]}),
        RetCode.DATA_ERROR,
        "Assistant(ghost) not found.",
    )
    assert_ok(api22.delete("/api/v1/chats", {"ids": None}))
    assert assert_ok(api22.get("/api/v1/chats")) == []
    assert two["id"]


def test_chats_are_private(api22, other_api22) -> None:
    chat = create(api22, name="mine")
    assert assert_ok(other_api22.get("/api/v1/chats")) == []
    assert_error(
        other_api22.put(f"/api/v1/chats/{chat['id']}", {"name": "x"}),
        RetCode.DATA_ERROR,
        "You do not own the chat",
    )
    assert_error(other_api22.delete("/api/v1/chats", {"ids": [chat["id"]]}), RetCode.DATA_ERROR)
    assert_error(
        other_api22.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}),
        RetCode.DATA_ERROR,
        "You do not own the assistant.",
    )
    assert_error(
        other_api22.get(f"/api/v1/chats/{chat['id']}/sessions"),
        RetCode.DATA_ERROR,
        f"You don't own the assistant {chat['id']}.",
    )
    assert Chat.objects.get(pk=chat["id"]).status == "1"


# --- sessions -------------------------------------------------------------------------------------


def test_session_lifecycle(api22) -> None:
    chat = create(api22, name="x", prompt={"opener": "Hello there"})
    url = f"/api/v1/chats/{chat['id']}/sessions"
    session = assert_ok(api22.post(url, {"name": "session_name"}))
    assert session["chat_id"] == chat["id"] and session["name"] == "session_name"
    assert session["messages"] == [{"role": "assistant", "content": "Hello there"}]
    renamed = assert_ok(api22.put(f"{url}/{session['id']}", {"name": "updated_name"}))
    assert renamed["id"] == session["id"] and renamed["name"] == "updated_name"
    (listed,) = assert_ok(api22.get(url))
    assert listed["name"] == "updated_name" and listed["messages"][0]["reference"] == []
    assert_ok(api22.delete(url, {"ids": [session["id"]]}))
    assert assert_ok(api22.get(url)) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "`name` can not be empty."),
        ({"messages": []}, "`message` can not be change"),
        ({"reference": []}, "`reference` can not be change"),
    ],
)
def test_session_update_rules(api22, body, message) -> None:
    chat = create(api22, name="x")
    session = assert_ok(api22.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))
    assert_error(
        api22.put(f"/api/v1/chats/{chat['id']}/sessions/{session['id']}", body),
        RetCode.DATA_ERROR,
        message,
    )


def test_session_errors(api22) -> None:
    chat = create(api22, name="x")
    url = f"/api/v1/chats/{chat['id']}/sessions"
    assert_error(api22.post(url, {"name": ""}), RetCode.DATA_ERROR, "`name` can not be empty.")
    assert_error(
        api22.put(f"{url}/ghost", {"name": "n"}), RetCode.DATA_ERROR, "Session does not exist"
    )
    assert_error(
        api22.delete(url, {"ids": ["ghost"]}),
        RetCode.DATA_ERROR,
        "The chat doesn't own the session ghost",
    )
    assert_error(
        api22.delete("/api/v1/chats/ghost/sessions", {"ids": []}),
        RetCode.DATA_ERROR,
        "You don't own the chat",
    )
