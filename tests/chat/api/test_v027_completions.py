"""Completions in both RAGFlow generations: the old path (G3/G4), POST /chat/completions (§3.5)
and the OpenAI-compatible endpoints (R5).

`api` holds a v0.27 key (ragflow-sdk 0.27.3), `api22` a v0.22 key (ragflow-sdk 0.22.1).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat.models import ChatSession
from knowledge.models import Dataset, Document
from knowledge.parsing.tokens import count_tokens
from ragsite.api.codes import RetCode
from tests.chat.api.conftest import QUESTION, collect, sse_events
from tests.helpers import assert_error, assert_ok, body_of

TERMINATOR = {"code": 0, "message": "", "data": True}
NO_AUTHORIZATION = {
    "code": RetCode.AUTHENTICATION_ERROR,
    "message": "no authorization",
    "data": False,
}


@pytest.fixture
def chat(api, facts: Dataset) -> dict:
    return assert_ok(api.post("/api/v1/chats", {"name": "facts", "dataset_ids": [facts.pk]}))


@pytest.fixture
def session(api, chat) -> dict:
    return assert_ok(api.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))


def ask(client, chat: dict, **body: Any):
    return client.post(f"/api/v1/chats/{chat['id']}/completions", body)


def assert_delta_stream(events: list[dict], *, session_id: Any, chat_id: str | None) -> dict:
    """The v0.27 stream shape (§3.5); returns the final event's data."""
    assert events[-1] == TERMINATOR
    *deltas, final = [e["data"] for e in events[:-1]]
    assert deltas, "no delta events"
    for data in deltas:
        assert data["final"] is False and data["reference"] == {"chunks": []}
        assert data["session_id"] == session_id and data["id"]
        assert data.get("chat_id") == chat_id and isinstance(data["created_at"], float)
    assert final["final"] is True and final["answer"] == ""
    assert final["reference"]["chunks"] and final["reference"]["doc_aggs"]
    assert final["prompt"] and final["id"] == deltas[0]["id"]
    return final


def text_of(events: list[dict]) -> str:
    return "".join(e["data"]["answer"] for e in events[:-1])


# --- the old path: G3 / G4 ------------------------------------------------------------------------


def test_the_old_path_streams_a_growing_answer_for_both_sdks(api, api22, chat, session) -> None:
    """Both SDKs post the same body; ragflow-sdk 0.27.3's users (and the seed walkthrough)
    get the growing answer 0.22.1's get, whatever the key's generation."""
    for client in (api, api22):
        events = sse_events(ask(client, chat, question=QUESTION, session_id=session["id"]))
        assert events[-1] == TERMINATOR
        answers = [e["data"]["answer"] for e in events[:-1]]
        assert len(answers) > 1 and "4312" in answers[-1] and "[ID:" in answers[-1]
        assert all(len(a) <= len(b) for a, b in zip(answers, answers[1:], strict=False))
        assert "final" not in events[-2]["data"]


@pytest.mark.parametrize(
    "extra",
    [
        {"messages": [{"role": "user", "content": QUESTION}]},
        {"chat_id": "ignored: the path names the chat"},
        {"legacy": False},
    ],
)
def test_the_old_path_answers_v027_clients_with_deltas(api22, chat, session, extra) -> None:
    body = {"question": QUESTION, "session_id": session["id"], **extra}
    events = sse_events(ask(api22, chat, **body))
    final = assert_delta_stream(events, session_id=session["id"], chat_id=chat["id"])
    assert "4312" in text_of(events) and final["reference"]["total"]


def test_the_generation_header_asks_for_deltas_on_the_old_path(api, chat, session) -> None:
    response = api.client.post(
        f"/api/v1/chats/{chat['id']}/completions",
        {"question": QUESTION, "session_id": session["id"]},
        content_type="application/json",
        headers={**api.headers, "X-Ragsite-Generation": "v0.27"},
    )
    assert_delta_stream(sse_events(response), session_id=session["id"], chat_id=chat["id"])


def test_legacy_true_is_the_growing_stream(api, chat, session) -> None:
    events = sse_events(ask(api, chat, question=QUESTION, session_id=session["id"], legacy=True))
    answers = [e["data"]["answer"] for e in events[:-1]]
    assert all(len(a) <= len(b) for a, b in zip(answers, answers[1:], strict=False))
    assert "4312" in answers[-1]


def test_without_a_session_v022_opens_one_and_v027_also_answers(api, chat) -> None:
    """G4: the same request without session_id, told apart by a v0.27 field."""
    opener = assert_ok(ask(api, chat, question=QUESTION, stream=False))
    assert opener["answer"] == "Hi! I'm your assistant. What can I do for you?"
    answered = assert_ok(ask(api, chat, question=QUESTION, stream=False, legacy=False))
    assert "4312" in answered["answer"] and answered["chat_id"] == chat["id"]
    stored = ChatSession.objects.get(pk=answered["session_id"])
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]
    assert stored.messages[1]["id"] == answered["id"]


def test_old_path_errors_by_generation(api, other_api, other_api22, chat, session) -> None:
    assert body_of(ask(other_api, chat, question="q", stream=False)) == NO_AUTHORIZATION
    assert_error(
        ask(other_api22, chat, question="q", stream=False),
        RetCode.DATA_ERROR,
        f"You don't own the chat {chat['id']}",
    )
    assert_error(
        ask(api, chat, question="q", session_id="ghost", legacy=False),
        RetCode.DATA_ERROR,
        "Session not found!",
    )


# --- POST /chat/completions -----------------------------------------------------------------------


def complete(client, **body: Any):
    return client.post("/api/v1/chat/completions", body)


def test_unified_stream_in_a_session(api22, chat, session) -> None:
    events = sse_events(
        complete(
            api22,
            chat_id=chat["id"],
            session_id=session["id"],
            messages=[{"role": "user", "content": QUESTION, "id": "f" * 32}],
        )
    )
    final = assert_delta_stream(events, session_id=session["id"], chat_id=chat["id"])
    assert final["id"] == "f" * 32 and "4312" in text_of(events)
    stored = ChatSession.objects.get(pk=session["id"])
    assert stored.messages[1] == {**stored.messages[1], "content": QUESTION, "id": "f" * 32}
    assert "4312" in stored.messages[2]["content"] and stored.references[0]["chunks"]


def test_unified_continues_with_the_stored_history(api, chat, session) -> None:
    first = assert_ok(
        complete(api, chat_id=chat["id"], session_id=session["id"], question=QUESTION, stream=False)
    )
    again = assert_ok(
        complete(
            api,
            chat_id=chat["id"],
            conversation_id=session["id"],
            question="And pgvector?",
            stream=False,
        )
    )
    assert first["session_id"] == again["session_id"] == session["id"]
    stored = ChatSession.objects.get(pk=session["id"])
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"] * 1 + [
        "user",
        "assistant",
    ]


def test_unified_without_a_chat_answers_with_the_default_model(api) -> None:
    response = complete(api, messages=[{"role": "user", "content": "Hello there"}], stream=False)
    body = body_of(response)
    assert body["code"] == 0 and body["message"] == "success"
    data = body["data"]
    assert data["session_id"] == "" and "chat_id" not in data and data["answer"]
    assert not ChatSession.objects.exists()
    events = sse_events(complete(api, question="Hello there"))
    assert events[-1] == TERMINATOR and events[-2]["data"]["final"] is True
    assert text_of(events)


def test_unified_with_a_chat_and_no_session_creates_one(api, chat) -> None:
    data = assert_ok(complete(api, chat_id=chat["id"], question=QUESTION, stream=False))
    assert "4312" in data["answer"] and data["reference"]["chunks"]
    assert ChatSession.objects.get(pk=data["session_id"]).messages[2]["content"] == data["answer"]


def test_unified_without_storing_history(api, chat) -> None:
    messages = [
        {"role": "system", "content": "dropped"},
        {"role": "assistant", "content": "a leading opener, dropped"},
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "answered"},
        {"role": "user", "content": QUESTION},
    ]
    data = assert_ok(
        complete(
            api,
            chat_id=chat["id"],
            messages=messages,
            stream="no",
            store_history_messages="false",
            pass_all_history_messages="yes",
        )
    )
    assert data["session_id"] is None and "4312" in data["answer"]
    assert not ChatSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, RetCode.ARGUMENT_ERROR, "required argument are missing: messages"),
        ({"messages": []}, RetCode.ARGUMENT_ERROR, "`messages` must be a non-empty list."),
        (
            {"messages": ["hi"]},
            RetCode.ARGUMENT_ERROR,
            "Every item in `messages` must be an object.",
        ),
        (
            {"messages": [{"role": "user"}]},
            RetCode.ARGUMENT_ERROR,
            "Every item in `messages` must include `role` and `content`.",
        ),
        (
            {"messages": [{"role": "system", "content": "s"}]},
            RetCode.ARGUMENT_ERROR,
            "`messages` must contain a user message.",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
            RetCode.ARGUMENT_ERROR,
            "The last message must be from user.",
        ),
        (
            {"question": "q", "store_history_messages": False},
            RetCode.DATA_ERROR,
            "`pass_all_history_messages` must be true when `store_history_messages` is false.",
        ),
        (
            {"question": "q", "session_id": "s"},
            RetCode.DATA_ERROR,
            "`chat_id` is required when `session_id` is provided.",
        ),
        (
            {"question": "q", "llm_id": "gpt@Nowhere"},
            RetCode.DATA_ERROR,
            "Cannot use specified model gpt@Nowhere.",
        ),
    ],
)
def test_unified_refusals(api, body, code, message) -> None:
    assert_error(complete(api, **body), code, message)
    assert not ChatSession.objects.exists()


def test_unified_refuses_foreign_chats_and_sessions(api, other_api, chat, session) -> None:
    for chat_id in (chat["id"], "ghost"):
        assert body_of(complete(other_api, chat_id=chat_id, question="q")) == NO_AUTHORIZATION
    assert_error(
        complete(api, chat_id=chat["id"], session_id="ghost", question="q"),
        RetCode.DATA_ERROR,
        "Session not found!",
    )
    other = assert_ok(api.post("/api/v1/chats", {"name": "other"}))
    assert_error(
        complete(api, chat_id=other["id"], session_id=session["id"], question="q"),
        RetCode.DATA_ERROR,
        "Session does not belong to this chat!",
    )


def test_an_answer_that_comes_whole_is_still_sent_as_a_delta(api, chat, session) -> None:
    assert_ok(
        api.patch(
            f"/api/v1/chats/{chat['id']}",
            {"prompt_config": {"empty_response": "Nothing here."}, "similarity_threshold": 0.99},
        )
    )
    events = sse_events(
        complete(api, chat_id=chat["id"], session_id=session["id"], question="astrophysics")
    )
    assert text_of(events) == "Nothing here." and events[-2]["data"]["final"] is True


# --- OpenAI-compatible ----------------------------------------------------------------------------

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": QUESTION},
]


def openai(client, chat: dict, body: dict, *, new: bool = True):
    prefix = "openai" if new else "chats_openai"
    return client.post(f"/api/v1/{prefix}/{chat['id']}/chat/completions", body)


def test_openai_new_path_does_not_stream_unless_asked(api, chat) -> None:
    response = openai(api, chat, {"model": "model", "messages": MESSAGES})
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    content = body["choices"][0]["message"]["content"]
    assert "4312" in content and body["model"] == chat["llm_id"]
    usage = body["usage"]
    assert usage["prompt_tokens"] == count_tokens(QUESTION)
    assert usage["completion_tokens"] == count_tokens(content)
    assert not ChatSession.objects.exists()


def test_openai_new_path_stream_names_the_model(api, chat) -> None:
    raw = collect(openai(api, chat, {"model": "model", "messages": MESSAGES, "stream": True}))
    blocks = [b for b in raw.decode().split("\n\n") if b]
    assert blocks[-1] == "data:[DONE]"
    chunks = [json.loads(b[len("data:") :]) for b in blocks[:-1]]
    assert all(c["model"] == chat["llm_id"] for c in chunks)
    text = "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks)
    assert "4312" in text and chunks[-1]["usage"]["completion_tokens"] == count_tokens(text)


def test_openai_model_other_than_the_placeholder_must_exist(api, chat) -> None:
    assert_error(
        openai(api, chat, {"model": "gpt-x@Nowhere", "messages": MESSAGES}),
        RetCode.DATA_ERROR,
        "Cannot use specified model gpt-x@Nowhere.",
    )
    body = json.loads(
        openai(api, chat, {"model": "ragsite-extractive@Builtin", "messages": MESSAGES}).content
    )
    assert body["model"] == "ragsite-extractive@Builtin"


@pytest.mark.parametrize("new", [True, False])
def test_openai_reference_top_level_or_inside_extra_body(api, chat, new) -> None:
    for body in (
        {"model": "model", "messages": MESSAGES, "stream": False, "reference": True},
        {
            "model": "model",
            "messages": MESSAGES,
            "stream": False,
            "extra_body": {"reference": True},
        },
    ):
        message = json.loads(openai(api, chat, body, new=new).content)["choices"][0]["message"]
        assert message["reference"][0]["document_name"] == "facts.txt"


def test_openai_reference_metadata(api, chat, facts: Dataset) -> None:
    Document.objects.filter(dataset=facts).update(meta_fields={"author": "Ann", "year": 2019})
    body = {
        "model": "model",
        "messages": MESSAGES,
        "extra_body": {
            "reference": True,
            "reference_metadata": {"include": True, "fields": ["author"]},
        },
    }
    message = json.loads(openai(api, chat, body).content)["choices"][0]["message"]
    assert message["reference"][0]["document_metadata"] == {"author": "Ann"}


def test_openai_metadata_condition_that_matches_nothing_finds_nothing(api, chat, facts) -> None:
    Document.objects.filter(dataset=facts).update(meta_fields={"author": "Ann"})
    condition = {
        "logic": "and",
        "conditions": [{"name": "author", "comparison_operator": "is", "value": "Bob"}],
    }
    for extra in (
        {"metadata_condition": condition},
        {"extra_body": {"metadata_condition": condition}},
    ):
        body = {"model": "model", "messages": MESSAGES, "reference": True, **extra}
        message = json.loads(openai(api, chat, body).content)["choices"][0]["message"]
        assert "4312" not in message["content"] and message["reference"] == []
    condition["conditions"][0]["value"] = "Ann"
    body = {
        "model": "model",
        "messages": MESSAGES,
        "reference": True,
        "metadata_condition": condition,
    }
    message = json.loads(openai(api, chat, body).content)["choices"][0]["message"]
    assert "4312" in message["content"] and message["reference"]


def test_openai_message_content_parts(api, chat) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": QUESTION}, {"type": "image_url"}]}
    ]
    body = json.loads(openai(api, chat, {"model": "model", "messages": messages}).content)
    assert "4312" in body["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"messages": MESSAGES}, RetCode.ARGUMENT_ERROR, "required argument are missing: model; "),
        ({"model": "model", "messages": "hi"}, RetCode.DATA_ERROR, "messages must be an array."),
        ({"model": "model", "messages": []}, RetCode.DATA_ERROR, "You have to provide messages."),
        (
            {"model": "model", "messages": ["hi"]},
            RetCode.DATA_ERROR,
            "Each message must be an object.",
        ),
        (
            {"model": "model", "messages": [{"role": "user", "content": 5}]},
            RetCode.DATA_ERROR,
            "messages[].content must be a string or an array of content parts.",
        ),
        (
            {"model": "model", "messages": [{"role": "assistant", "content": "a"}]},
            RetCode.DATA_ERROR,
            "The last content of this conversation is not from user.",
        ),
        (
            {"model": "model", "messages": MESSAGES, "extra_body": []},
            RetCode.DATA_ERROR,
            "extra_body must be an object.",
        ),
        (
            {"model": "model", "messages": MESSAGES, "extra_body": {"reference_metadata": 1}},
            RetCode.DATA_ERROR,
            "reference_metadata must be an object.",
        ),
        (
            {"model": "model", "messages": MESSAGES, "reference_metadata": {"fields": "a"}},
            RetCode.DATA_ERROR,
            "reference_metadata.fields must be an array.",
        ),
        (
            {"model": "model", "messages": MESSAGES, "metadata_condition": "x"},
            RetCode.DATA_ERROR,
            "metadata_condition must be an object.",
        ),
    ],
)
def test_openai_new_path_refusals(api, chat, body, code, message) -> None:
    assert_error(openai(api, chat, body), code, message)


def test_openai_new_path_authenticates_first(chat) -> None:
    from tests.conftest import ApiClient

    anonymous = ApiClient(None)
    assert body_of(openai(anonymous, chat, {}))["message"] == "`Authorization` can't be empty"
    old = body_of(openai(anonymous, chat, {}, new=False))  # the old path checks fields first
    assert old["message"] == "required argument are missing: model,messages; "


def test_openai_foreign_chat_by_path(api, other_api, other_api22, chat) -> None:
    body = {"model": "model", "messages": MESSAGES}
    assert body_of(openai(other_api, chat, body)) == NO_AUTHORIZATION
    assert_error(
        openai(other_api22, chat, body, new=False),
        RetCode.DATA_ERROR,
        f"You don't own the chat {chat['id']}",
    )
