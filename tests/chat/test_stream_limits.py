"""Streams cost bytes and memory linear in the answer (issue 18, defect 6), answers and quoted
chunks have ceilings, and over-long questions are refused before anything is done (defect 4).

The chunks here are long runs of words without a sentence end, so the built-in extractive model
quotes the whole (quoted part of the) chunk: the answer grows with the chunk.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from chat.models import Chat, ChatSession
from chat.routing import websocket_urlpatterns
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create
from knowledge.models import Document, ModelProvider
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok
from tests.long_chunks import QUESTION, endless_model_service, long_chunk_dataset, prose, size

pytestmark = pytest.mark.django_db(transaction=True)


def chat_with_chunk(tenant: User, chars: int) -> Chat:
    dataset = long_chunk_dataset(tenant, chars)
    return chat_create(
        tenant=tenant, changes=ChatChanges(name=f"long {chars}", dataset_ids=[dataset.pk])
    )


def collect(response: Any) -> bytes:
    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def events_of(raw: bytes) -> list[Any]:
    blocks = [b for b in raw.decode().split("\n\n") if b]
    return [json.loads(b[len("data:") :]) for b in blocks if b.strip() not in ("data:[DONE]",)]


def sse_answer(api: Any, chat: Chat, session: ChatSession) -> tuple[bytes, list[Any]]:
    response = api.post(
        f"/api/v1/chats/{chat.pk}/completions",
        {"question": QUESTION, "session_id": session.pk, "stream": True},
    )
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    raw = collect(response)
    return raw, events_of(raw)


# --- bytes sent -----------------------------------------------------------------------------------


def test_sse_bytes_stay_linear_in_the_answer(api: Any, tenant: User) -> None:
    sent = {}
    for chars in (4_000, 16_000):
        chat = chat_with_chunk(tenant, chars)
        raw, events = sse_answer(api, chat, session_create(chat=chat, name="s"))
        assert events[-1] == {"code": 0, "message": "", "data": True}
        final = events[-2]["data"]
        assert len(final["answer"]) >= chars * 0.9
        # Still RAGFlow's format: cumulative answers that only grow, then the final one.
        answers = [e["data"]["answer"] for e in events[:-2]]
        assert len(answers) >= 2
        assert all(b.startswith(a) for a, b in zip(answers, answers[1:], strict=False))
        payload = size(final["answer"]) + size(final["reference"])
        assert len(raw) <= 6 * payload + 16_384, (chars, len(raw), payload)
        sent[chars] = len(raw)
    # Four times the answer, about four times the bytes (it was sixteen: quadratic).
    assert sent[16_000] <= 6 * sent[4_000], sent


def test_openai_stream_bytes_stay_linear_in_the_answer(api: Any, tenant: User) -> None:
    chat = chat_with_chunk(tenant, 16_000)
    response = api.post(
        f"/api/v1/chats_openai/{chat.pk}/chat/completions",
        {
            "model": "m",
            "messages": [{"role": "user", "content": QUESTION}],
            "stream": True,
            "reference": True,
        },
    )
    raw = collect(response)
    chunks = events_of(raw)
    assert raw.endswith(b"data:[DONE]\n\n")
    text = "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks)
    last = chunks[-1]["choices"][0]["delta"]
    assert len(text) >= 16_000 * 0.9 and last["final_content"].startswith(text[:1000])
    payload = size(last["final_content"]) + size(last["reference"])
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)


def test_chat_socket_sends_deltas_linear_in_the_answer(tenant: User) -> None:
    chat = chat_with_chunk(tenant, 16_000)
    session = session_create(chat=chat, name="s")

    async def run() -> list[str]:
        socket = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/chat/{chat.pk}/sessions/{session.pk}/"
        )
        socket.scope["user"] = tenant
        await socket.connect()
        await socket.send_json_to({"question": QUESTION})
        frames = []
        while True:
            frame = (await socket.receive_output(timeout=120))["text"]
            frames.append(frame)
            if json.loads(frame)["type"] in ("final", "error"):
                break
        await socket.disconnect()
        return frames

    frames = async_to_sync(run)()
    messages = [json.loads(f) for f in frames]
    *deltas, final = messages
    assert final["type"] == "final" and deltas
    # Deltas: the page appends them, and together they are the streamed answer.
    streamed = "".join(m["content"] for m in deltas)
    assert streamed and final["answer"].startswith(streamed[:1000])
    payload = size(final["answer"]) + size(final["reference"])
    assert sum(len(f.encode()) for f in frames) <= 6 * payload + 16_384


# --- a 1 MB chunk ---------------------------------------------------------------------------------


@pytest.fixture
def megabyte_chat(tenant: User) -> Chat:
    return chat_with_chunk(tenant, 1_000_000)


def test_a_one_megabyte_chunk_is_quoted_and_streamed_within_the_ceilings(
    api: Any, tenant: User, settings: Any, megabyte_chat: Chat
) -> None:
    quoted = settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS
    session = session_create(chat=megabyte_chat, name="s")
    tracemalloc.start()
    try:
        raw, events = sse_answer(api, megabyte_chat, session)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    final = events[-2]["data"]
    (chunk,) = final["reference"]["chunks"]
    assert len(chunk["content"]) == quoted
    # The model only saw the quoted part of the chunk, so the answer is at most that long.
    assert quoted * 0.9 <= len(final["answer"]) <= quoted + 20
    payload = size(final["answer"]) + size(final["reference"])
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)
    # The chunk itself is read once (about 2 MB with its segmented text); the stream adds little.
    assert peak <= 48 * 1024 * 1024, peak
    # The turn is stored as answered.
    stored = ChatSession.objects.get(pk=session.pk)
    assert stored.messages[-1]["content"] == final["answer"]

    tracemalloc.start()
    try:
        response = api.post(
            f"/api/v1/chats_openai/{megabyte_chat.pk}/chat/completions",
            {"model": "m", "messages": [{"role": "user", "content": QUESTION}], "reference": True},
        )
        raw = collect(response)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last = events_of(raw)[-1]["choices"][0]["delta"]
    assert len(last["reference"][0]["content"]) == quoted
    payload = size(last["final_content"]) + size(last["reference"])
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)
    assert peak <= 48 * 1024 * 1024, peak


def test_the_prompt_quotes_at_most_the_ceiling_of_each_chunk(
    api: Any, tenant: User, settings: Any
) -> None:
    settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS = 2_000
    chat = chat_with_chunk(tenant, 50_000)
    session = session_create(chat=chat, name="s")
    data = assert_ok(
        api.post(
            f"/api/v1/chats/{chat.pk}/completions",
            {"question": QUESTION, "session_id": session.pk, "stream": False},
        )
    )
    assert len(data["reference"]["chunks"][0]["content"]) == 2_000
    knowledge = data["prompt"].split("└── Content: ", 1)[1]
    assert prose(50_000)[:2_000] in knowledge and prose(50_000)[:2_001] not in knowledge
    assert len(data["answer"]) <= 2_000 + 20


# --- the answer ceiling, with a model that never stops ---------------------------------------------


@pytest.fixture
def endless_service() -> Iterator[tuple[str, threading.Event]]:
    with endless_model_service() as service:
        yield service


def test_a_model_answer_stops_at_the_answer_ceiling(
    api: Any, tenant: User, settings: Any, endless_service: tuple[str, threading.Event]
) -> None:
    base_url, hung_up = endless_service
    settings.RAGSITE_MAX_ANSWER_CHARS = 5_000
    ModelProvider.objects.create(
        factory="Endless", base_url=base_url, chat_models="talker", timeout_seconds=30
    )
    chat = chat_create(tenant=tenant, changes=ChatChanges(name="talker", llm_id="talker@Endless"))
    session = session_create(chat=chat, name="s")
    raw, events = sse_answer(api, chat, session)
    final = events[-2]["data"]
    assert final["answer"] == ("more and more words " * 250)[:5_000]
    assert all(len(e["data"]["answer"]) <= 5_000 for e in events[:-1])
    # The model's stream was closed at the ceiling, not read to the end.
    assert hung_up.wait(30)
    stored = ChatSession.objects.get(pk=session.pk)
    assert len(stored.messages[-1]["content"]) == 5_000


# --- question length and malformed bodies ----------------------------------------------------------


@pytest.fixture
def small_chat(tenant: User) -> Chat:
    dataset = dataset_create(tenant=tenant, name="kb")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="a.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content="The walrus colony on Kolguev island has 4312 animals.")
    return chat_create(tenant=tenant, changes=ChatChanges(name="small", dataset_ids=[dataset.pk]))


TOO_LONG = "`question` is too long: at most 8000 characters."


@pytest.mark.parametrize("stream", [True, False])
def test_a_too_long_question_is_refused_before_anything_is_done(
    api: Any, small_chat: Chat, stream: bool
) -> None:
    session = session_create(chat=small_chat, name="s")
    path = f"/api/v1/chats/{small_chat.pk}/completions"
    question = "walrus " * 1143  # 8001 characters
    assert len(question) == 8001
    for body in (
        {"question": question, "session_id": session.pk, "stream": stream},
        # Without a session_id a new session would be made: not for a refused question.
        {"question": question, "stream": stream},
    ):
        assert_error(api.post(path, body), RetCode.ARGUMENT_ERROR, TOO_LONG)
    assert ChatSession.objects.filter(chat=small_chat).count() == 1
    assert len(ChatSession.objects.get(pk=session.pk).messages) == 1
    # At the limit it is answered.
    data = assert_ok(
        api.post(
            path, {"question": "walrus " * 1142 + "x", "session_id": session.pk, "stream": False}
        )
    )
    assert data["answer"]


def test_the_question_limit_is_the_setting(api: Any, small_chat: Chat, settings: Any) -> None:
    settings.RAGSITE_MAX_QUESTION_CHARS = 10
    session = session_create(chat=small_chat, name="s")
    assert_error(
        api.post(
            f"/api/v1/chats/{small_chat.pk}/completions",
            {"question": "walrus colony", "session_id": session.pk},
        ),
        RetCode.ARGUMENT_ERROR,
        "`question` is too long: at most 10 characters.",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": 42}, "`question` should be a string."),
        ({"question": ["walrus"]}, "`question` should be a string."),
        ({"question": "walrus", "session_id": 0}, "`session_id` should be a string."),
        ({"question": "walrus", "session_id": []}, "`session_id` should be a string."),
        ({"question": "walrus", "session_id": False}, "`session_id` should be a string."),
        ({"question": "walrus", "name": {"a": 1}}, "`name` should be a string."),
        ({"question": "walrus", "user_id": 7}, "`user_id` should be a string."),
    ],
)
def test_a_body_with_wrong_field_types_creates_no_session(
    api: Any, small_chat: Chat, body: dict[str, Any], message: str
) -> None:
    assert_error(
        api.post(f"/api/v1/chats/{small_chat.pk}/completions", body),
        RetCode.ARGUMENT_ERROR,
        message,
    )
    assert not ChatSession.objects.filter(chat=small_chat).exists()


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"walrus"', b"42", b"null", b'{"question": "x",}'])
def test_a_body_that_is_not_an_object_creates_no_session(
    api: Any, small_chat: Chat, raw: bytes
) -> None:
    response = api.client.post(
        f"/api/v1/chats/{small_chat.pk}/completions",
        raw,
        content_type="application/json",
        headers=api.headers,
    )
    assert_error(response, RetCode.ARGUMENT_ERROR)
    assert not ChatSession.objects.filter(chat=small_chat).exists()


def test_openai_refuses_a_too_long_last_user_message(api: Any, small_chat: Chat) -> None:
    path = f"/api/v1/chats_openai/{small_chat.pk}/chat/completions"
    long = "walrus " * 1143
    for stream in (True, False):
        body = {
            "model": "m",
            "stream": stream,
            "messages": [
                {"role": "user", "content": "short"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": long},
            ],
        }
        assert_error(
            api.post(path, body),
            RetCode.ARGUMENT_ERROR,
            "The last user message is too long: at most 8000 characters.",
        )
    # Only the question is limited, not the earlier turns.
    body = {
        "model": "m",
        "stream": False,
        "messages": [
            {"role": "user", "content": long},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "How many walruses on Kolguev?"},
        ],
    }
    response = api.post(path, body)
    assert (
        response.status_code == 200
        and "4312" in response.json()["choices"][0]["message"]["content"]
    )
