"""Agent streams cost bytes and memory linear in the reply (issue 18, defect 6), replies and quoted
chunks have ceilings, and over-long questions or wrong field types are refused before a session is
created (defects 4 and 9).
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

from agents.models import Agent, AgentSession
from agents.routing import websocket_urlpatterns
from agents.services.agents import agent_create, session_create
from agents.templates_library import component, dsl_of, qa_dsl
from chat.llm.registry import BUILTIN_EXTRACTIVE
from knowledge.models import Document, ModelProvider
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok
from tests.long_chunks import (
    ENDLESS_DELTA,
    QUESTION,
    endless_model_service,
    long_chunk_dataset,
    prose,
    size,
)

pytestmark = pytest.mark.django_db(transaction=True)


def qa_agent(tenant: User, dataset_id: str, llm_id: str = BUILTIN_EXTRACTIVE) -> Agent:
    dsl = qa_dsl(dataset_ids=[dataset_id], llm_id=llm_id, prologue="Ask me.")
    return agent_create(tenant=tenant, title=f"qa {dataset_id}", dsl=dsl)


def collect(response: Any) -> bytes:
    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def events_of(raw: bytes) -> list[Any]:
    blocks = [b.strip() for b in raw.decode().split("\n\n") if b.strip()]
    return [json.loads(b[len("data:") :]) for b in blocks if b[len("data:") :].strip() != "[DONE]"]


def agent_sse(api: Any, agent: Agent, **body: Any) -> tuple[bytes, list[Any]]:
    response = api.post(
        f"/api/v1/agents/{agent.pk}/completions", {"question": QUESTION, "stream": True, **body}
    )
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    raw = collect(response)
    return raw, events_of(raw)


def reply_of(events: list[Any]) -> tuple[str, Any]:
    """The concatenated message deltas and the message_end reference."""
    text = "".join(e["data"]["content"] for e in events if e["event"] == "message")
    (end,) = [e for e in events if e["event"] == "message_end"]
    return text, end["data"]["reference"]


# --- bytes sent -----------------------------------------------------------------------------------


def test_agent_sse_bytes_stay_linear_in_the_reply(api: Any, tenant: User) -> None:
    agent = qa_agent(tenant, long_chunk_dataset(tenant, 16_000).pk)
    raw, events = agent_sse(api, agent)
    text, reference = reply_of(events)
    assert len(text) >= 16_000 * 0.9 and "[ID:0]" in text
    payload = size(text) + size(reference)
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)


def test_agent_openai_stream_bytes_stay_linear_in_the_reply(api: Any, tenant: User) -> None:
    agent = qa_agent(tenant, long_chunk_dataset(tenant, 16_000).pk)
    response = api.post(
        f"/api/v1/agents_openai/{agent.pk}/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": QUESTION}], "stream": True},
    )
    raw = collect(response)
    chunks = events_of(raw)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    (reference,) = [
        c["choices"][0]["delta"]["reference"]
        for c in chunks
        if "reference" in c["choices"][0]["delta"]
    ]
    assert len(text) >= 16_000 * 0.9
    payload = size(text) + size(reference)
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)


def socket_frames(tenant: User, agent: Agent, question: str = QUESTION) -> list[str]:
    session = session_create(agent=agent, user_id=str(tenant.pk))

    async def run() -> list[str]:
        socket = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/agents/{agent.pk}/sessions/{session.pk}/"
        )
        socket.scope["user"] = tenant
        await socket.connect()
        await socket.send_json_to({"question": question})
        frames = []
        while True:
            frame = (await socket.receive_output(timeout=120))["text"]
            frames.append(frame)
            if json.loads(frame)["type"] == "done":
                break
        await socket.disconnect()
        return frames

    return async_to_sync(run)()


def test_agent_socket_bytes_stay_linear_in_the_reply(tenant: User) -> None:
    agent = qa_agent(tenant, long_chunk_dataset(tenant, 16_000).pk)
    frames = socket_frames(tenant, agent)
    messages = [json.loads(f) for f in frames]
    text = "".join(m["content"] for m in messages if m["type"] == "delta")
    (end,) = [m for m in messages if m["type"] == "message_end"]
    assert len(text) >= 16_000 * 0.9
    payload = size(text) + size(end["reference"])
    assert sum(len(f.encode()) for f in frames) <= 6 * payload + 16_384


# --- a 1 MB chunk ---------------------------------------------------------------------------------


def test_a_one_megabyte_chunk_is_quoted_and_streamed_within_the_ceilings(
    api: Any, tenant: User, settings: Any
) -> None:
    quoted = settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS
    agent = qa_agent(tenant, long_chunk_dataset(tenant, 1_000_000).pk)
    tracemalloc.start()
    try:
        raw, events = agent_sse(api, agent)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text, reference = reply_of(events)
    (chunk,) = reference["chunks"].values()
    assert len(chunk["content"]) == quoted
    assert quoted * 0.9 <= len(text) <= quoted + 20
    payload = size(text) + size(reference)
    assert len(raw) <= 6 * payload + 16_384, (len(raw), payload)
    assert peak <= 48 * 1024 * 1024, peak
    # The turn is recorded, and the websocket answers too (a 1 MiB reference used to break it).
    session = AgentSession.objects.get(agent_key=agent.pk)
    assert session.messages[-1]["content"] == text
    messages = [json.loads(f) for f in socket_frames(tenant, agent)]
    assert [m["type"] for m in messages][-2:] == ["message_end", "done"]
    (chunk,) = messages[-2]["reference"]["chunks"].values()
    assert len(chunk["content"]) == quoted


# --- ceilings of a reply --------------------------------------------------------------------------


def test_a_message_template_stops_at_the_answer_ceiling(
    api: Any, tenant: User, settings: Any
) -> None:
    settings.RAGSITE_MAX_ANSWER_CHARS = 10_000
    dataset = long_chunk_dataset(tenant, 4_000)
    search = "Retrieval:Search"
    dsl = dsl_of(
        {
            "begin": component("Begin", {"prologue": ""}, downstream=[search]),
            search: component(
                "Retrieval",
                {"kb_ids": [dataset.pk], "query": "sys.query", "top_n": 1},
                downstream=["Message:Reply"],
                upstream=["begin"],
            ),
            # Five times the passage: 20,000 characters, twice the ceiling.
            "Message:Reply": component(
                "Message",
                {"content": [f"{{{search}@formalized_content}}" * 5]},
                upstream=[search],
            ),
        }
    )
    agent = agent_create(tenant=tenant, title="echo", dsl=dsl)
    _raw, events = agent_sse(api, agent)
    text, _reference = reply_of(events)
    assert len(text) == 10_000
    assert prose(4_000)[:1_000] in text


@pytest.fixture
def endless_service() -> Iterator[tuple[str, threading.Event]]:
    with endless_model_service() as service:
        yield service


def test_a_model_reply_stops_at_the_answer_ceiling(
    api: Any, tenant: User, settings: Any, endless_service: tuple[str, threading.Event]
) -> None:
    base_url, hung_up = endless_service
    settings.RAGSITE_MAX_ANSWER_CHARS = 5_000
    ModelProvider.objects.create(
        factory="Endless", base_url=base_url, chat_models="talker", timeout_seconds=30
    )
    agent = qa_agent(tenant, long_chunk_dataset(tenant, 1_000).pk, llm_id="talker@Endless")
    _raw, events = agent_sse(api, agent)
    text, _reference = reply_of(events)
    assert text == (ENDLESS_DELTA * 250)[:5_000]
    assert hung_up.wait(30)


# --- question length and malformed bodies ----------------------------------------------------------


@pytest.fixture
def small_agent(tenant: User) -> Agent:
    dataset = dataset_create(tenant=tenant, name="kb")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="a.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content="The walrus colony on Kolguev island has 4312 animals.")
    return qa_agent(tenant, dataset.pk)


TOO_LONG = "`question` is too long: at most 8000 characters."


def sessions_of(agent: Agent) -> int:
    return AgentSession.objects.filter(agent_key=agent.pk).count()


@pytest.mark.parametrize("stream", [True, False])
def test_a_too_long_question_is_refused_before_a_session_is_made(
    api: Any, tenant: User, small_agent: Agent, stream: bool
) -> None:
    session = session_create(agent=small_agent, user_id=str(tenant.pk))
    path = f"/api/v1/agents/{small_agent.pk}/completions"
    question = "walrus " * 1143
    for body in (
        {"question": question, "session_id": session.pk, "stream": stream},
        {"question": question, "stream": stream},
        {"query": question, "stream": stream},
    ):
        assert_error(api.post(path, body), RetCode.ARGUMENT_ERROR, TOO_LONG)
    assert sessions_of(small_agent) == 1
    assert len(AgentSession.objects.get(pk=session.pk).messages) == 1
    data = assert_ok(
        api.post(
            path, {"question": "walrus " * 1142 + "x", "session_id": session.pk, "stream": False}
        )
    )
    assert data["data"]["content"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": 42}, "`question` should be a string."),
        ({"question": {"a": 1}}, "`question` should be a string."),
        ({"question": "walrus", "session_id": 0}, "`session_id` should be a string."),
        ({"question": "walrus", "session_id": []}, "`session_id` should be a string."),
        ({"question": "walrus", "user_id": 7}, "`user_id` should be a string."),
    ],
)
def test_a_body_with_wrong_field_types_creates_no_session(
    api: Any, small_agent: Agent, body: dict[str, Any], message: str
) -> None:
    assert_error(
        api.post(f"/api/v1/agents/{small_agent.pk}/completions", body),
        RetCode.ARGUMENT_ERROR,
        message,
    )
    assert sessions_of(small_agent) == 0


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"walrus"', b"42", b'{"question": "x",}'])
def test_a_body_that_is_not_an_object_creates_no_session(
    api: Any, small_agent: Agent, raw: bytes
) -> None:
    response = api.client.post(
        f"/api/v1/agents/{small_agent.pk}/completions",
        raw,
        content_type="application/json",
        headers=api.headers,
    )
    assert_error(response, RetCode.ARGUMENT_ERROR)
    assert sessions_of(small_agent) == 0


def test_openai_refuses_a_too_long_last_user_message(api: Any, small_agent: Agent) -> None:
    path = f"/api/v1/agents_openai/{small_agent.pk}/chat/completions"
    for stream in (True, False):
        body = {
            "model": "m",
            "stream": stream,
            "messages": [{"role": "user", "content": "walrus " * 1143}],
        }
        assert_error(
            api.post(path, body),
            RetCode.ARGUMENT_ERROR,
            "The last user message is too long: at most 8000 characters.",
        )
    assert sessions_of(small_agent) == 0
    body = {"model": "m", "messages": [{"role": "user", "content": "walrus"}], "id": 5}
    assert_error(api.post(path, body), RetCode.ARGUMENT_ERROR, "`session_id` should be a string.")
    assert sessions_of(small_agent) == 0
