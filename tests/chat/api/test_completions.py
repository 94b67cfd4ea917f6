"""Completions: SSE framing, non-stream shape, sessions, errors, and the OpenAI-compatible endpoint."""

from __future__ import annotations

import io
import json

import pytest
from asgiref.sync import async_to_sync

from chat.models import ChatSession
from knowledge.models import ModelProvider
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

FACTS = [
    "RAGFlow-compatible servers store knowledge in datasets.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Postgres with pgvector keeps one embedding per chunk.",
]


@pytest.fixture
def chat(api22) -> dict:
    dataset = assert_ok(api22.post("/api/v1/datasets", {"name": "kb"}))
    part = io.BytesIO(b"x")
    part.name = "facts.txt"
    (doc,) = assert_ok(
        api22.client.post(
            f"/api/v1/datasets/{dataset['id']}/documents", {"file": [part]}, headers=api22.headers
        )
    )
    for fact in FACTS:
        assert_ok(
            api22.post(
                f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks", {"content": fact}
            )
        )
    return assert_ok(api22.post("/api/v1/chats", {"name": "facts", "dataset_ids": [dataset["id"]]}))


@pytest.fixture
def session(api22, chat) -> dict:
    return assert_ok(api22.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))


def collect(response) -> bytes:
    """Drain an async streaming response from sync test code (on the test's DB connection)."""

    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def sse_events(response) -> list:
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    raw = collect(response).decode("utf-8")
    blocks = [b for b in raw.split("\n\n") if b]
    assert all(b.startswith("data:") and "\n" not in b for b in blocks), raw[:500]
    return [json.loads(b[len("data:") :]) for b in blocks]


def ask(api22, chat, **body):
    return api22.post(f"/api/v1/chats/{chat['id']}/completions", body)


def test_stream_is_cumulative_with_a_final_reference_and_terminator(api22, chat, session) -> None:
    events = sse_events(
        ask(
            api22,
            chat,
            question="How many walruses were counted on Kolguev island?",
            session_id=session["id"],
            stream=True,
        )
    )
    assert events[-1] == {"code": 0, "message": "", "data": True}
    answers = [e["data"]["answer"] for e in events[:-1]]
    assert len(answers) > 1
    assert all(len(a) <= len(b) for a, b in zip(answers, answers[1:], strict=False))
    final = events[-2]["data"]
    assert "4312" in final["answer"] and "[ID:" in final["answer"]
    assert final["session_id"] == session["id"] and final["id"] and final["created_at"]
    chunks = final["reference"]["chunks"]
    assert chunks and {
        "id",
        "content",
        "document_id",
        "document_name",
        "dataset_id",
        "similarity",
    } <= set(chunks[0])
    assert final["reference"]["doc_aggs"][0]["doc_name"] == "facts.txt"


def test_non_stream_answer_and_history_is_recorded(api22, chat, session) -> None:
    data = assert_ok(
        ask(
            api22,
            chat,
            question="What does pgvector keep per chunk?",
            session_id=session["id"],
            stream=False,
        )
    )
    assert "embedding" in data["answer"].lower() and data["session_id"] == session["id"]
    assert data["reference"]["chunks"]
    stored = ChatSession.objects.get(pk=session["id"])
    roles = [m["role"] for m in stored.messages]
    assert roles == ["assistant", "user", "assistant"]
    assert stored.messages[1]["id"] == stored.messages[2]["id"] == data["id"]
    (listed,) = assert_ok(api22.get(f"/api/v1/chats/{chat['id']}/sessions", {"id": session["id"]}))
    assert listed["messages"][2]["reference"][0]["document_name"] == "facts.txt"


def test_stream_carries_non_ascii_intact(api22, session, chat) -> None:
    events = sse_events(ask(api22, chat, question="海象有多少只？", session_id=session["id"]))
    assert events[-1]["data"] is True
    assert isinstance(events[-2]["data"]["answer"], str)


def test_without_session_a_session_is_created_and_the_opener_returned(api22, chat) -> None:
    events = sse_events(ask(api22, chat, question="ignored"))
    assert len(events) == 2 and events[1]["data"] is True
    data = events[0]["data"]
    assert data["answer"] == "Hi! I'm your assistant. What can I do for you?"
    assert ChatSession.objects.filter(pk=data["session_id"]).exists()
    plain = assert_ok(ask(api22, chat, stream=False, name="named"))
    assert ChatSession.objects.get(pk=plain["session_id"]).name == "named"


def test_empty_response_is_used_without_calling_the_model(api22, chat, session) -> None:
    assert_ok(
        api22.put(
            f"/api/v1/chats/{chat['id']}",
            {"prompt": {"empty_response": "Nothing here.", "similarity_threshold": 0.99}},
        )
    )
    data = assert_ok(
        ask(api22, chat, question="unrelated astrophysics", session_id=session["id"], stream=False)
    )
    assert data["answer"] == "Nothing here."


def test_prompt_variables(api22, chat, session) -> None:
    prompt = {
        "prompt": "Answer as {persona}. {knowledge}",
        "variables": [
            {"key": "knowledge", "optional": True},
            {"key": "persona", "optional": False},
        ],
    }
    assert_ok(api22.put(f"/api/v1/chats/{chat['id']}", {"prompt": prompt}))
    assert_error(
        ask(api22, chat, question="walrus?", session_id=session["id"], stream=False),
        RetCode.DATA_ERROR,
        "Miss parameter: persona",
    )
    data = assert_ok(
        ask(
            api22,
            chat,
            question="How many walruses on Kolguev?",
            session_id=session["id"],
            stream=False,
            persona="a pirate",
        )
    )
    assert "Answer as a pirate." in data["prompt"]


def test_show_quote_off_means_no_markers(api22, chat, session) -> None:
    data = assert_ok(
        ask(
            api22,
            chat,
            question="How many walruses on Kolguev?",
            session_id=session["id"],
            stream=False,
            quote=False,
        )
    )
    assert "[ID:" not in data["answer"] and "4312" in data["answer"]


def test_completion_errors(api22, other_api22, chat, session) -> None:
    assert_error(
        other_api22.post(f"/api/v1/chats/{chat['id']}/completions", {"question": "q"}),
        RetCode.DATA_ERROR,
        f"You don't own the chat {chat['id']}",
    )
    assert_error(
        ask(api22, chat, question="q", session_id="ghost"),
        RetCode.DATA_ERROR,
        "You don't own the session ghost",
    )
    assert (
        body_of(api22.client.get(f"/api/v1/chats/{chat['id']}/completions", headers=api22.headers))[
            "code"
        ]
        == 100
    )
    assert (
        body_of(ask(type(api22)(None), chat, question="q"))["message"]
        == "`Authorization` can't be empty"
    )


def test_a_model_failure_mid_answer_is_an_event_not_a_broken_stream(api22, chat, session) -> None:
    ModelProvider.objects.create(
        factory="Dead", base_url="http://127.0.0.1:9/v1", chat_models="llama", timeout_seconds=2
    )
    assert_ok(api22.put(f"/api/v1/chats/{chat['id']}", {"llm": {"model_name": "llama@Dead"}}))
    events = sse_events(
        ask(api22, chat, question="How many walruses on Kolguev?", session_id=session["id"])
    )
    assert events[-1]["data"] is True
    error = events[-2]
    assert error["code"] == 500 and error["data"]["answer"].startswith("**ERROR**: ")
    assert "unreachable" in error["message"].lower() or "connect" in error["message"].lower()


# --- OpenAI-compatible ------------------------------------------------------------------------------


def openai(api22, chat, body):
    return api22.post(f"/api/v1/chats_openai/{chat['id']}/chat/completions", body)


MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many walruses were counted on Kolguev island?"},
]


def test_openai_non_stream(api22, chat) -> None:
    response = openai(
        api22, chat, {"model": "model", "messages": MESSAGES, "stream": False, "reference": True}
    )
    body = json.loads(response.content)
    assert body["object"] == "chat.completion" and body["id"] == f"chatcmpl-{chat['id']}"
    message = body["choices"][0]["message"]
    assert "4312" in message["content"] and message["reference"]
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    assert body["choices"][0]["finish_reason"] == "stop"
    assert not ChatSession.objects.exists()  # stateless


def test_openai_stream_sends_deltas_then_done(api22, chat) -> None:
    response = openai(api22, chat, {"model": "model", "messages": MESSAGES, "stream": True})
    raw = collect(response).decode()
    blocks = [b for b in raw.split("\n\n") if b]
    assert blocks[-1] == "data:[DONE]"
    chunks = [json.loads(b[len("data:") :]) for b in blocks[:-1]]
    text = "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks)
    assert "4312" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"][
        "completion_tokens"
    ] == len(text)
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "model" for c in chunks)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, RetCode.ARGUMENT_ERROR, "required argument are missing: model,messages; "),
        ({"model": "m"}, RetCode.ARGUMENT_ERROR, "required argument are missing: messages; "),
        ({"model": "m", "messages": []}, RetCode.DATA_ERROR, "You have to provide messages."),
        (
            {
                "model": "m",
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ],
            },
            RetCode.DATA_ERROR,
            "The last content of this conversation is not from user.",
        ),
    ],
)
def test_openai_errors(api22, chat, body, code, message) -> None:
    assert_error(openai(api22, chat, body), code, message)


def test_openai_foreign_chat(other_api22, chat) -> None:
    assert_error(
        openai(other_api22, chat, {"model": "m", "messages": MESSAGES}),
        RetCode.DATA_ERROR,
        f"You don't own the chat {chat['id']}",
    )
