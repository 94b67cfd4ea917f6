"""The OpenAI-compatible chat model against a small local server speaking the protocol."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chat.llm import ChatModelError, ChatRequest, KnowledgeChunk, Message
from chat.llm.openai_compat import QUOTE_INSTRUCTION, OpenAICompatibleChatModel

Reply = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class FakeService:
    """What the server should answer, and the requests it received."""

    base_url: str
    reply: Reply | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


def sse_reply(*deltas: str, done: bool = True) -> Reply:
    """Stream a role-only chunk, one chunk per delta, an empty final chunk, then [DONE]."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        events: list[dict[str, Any]] = [{"choices": [{"delta": {"role": "assistant"}}]}]
        events += [{"choices": [{"delta": {"content": d}}]} for d in deltas]
        events.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
        handler.wfile.write(b": keep-alive\n\n")
        for event in events:
            handler.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            handler.wfile.flush()
        if done:
            handler.wfile.write(b"data: [DONE]\n\n")

    return reply


def body_reply(status: int, body: bytes, content_type: str = "application/json") -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return reply


def stalling_reply(seconds: float) -> Reply:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)  # the server's own thread, not the test's event loop
        sse_reply("too late")(handler)

    return reply


@pytest.fixture
def service() -> Iterator[FakeService]:
    """A ThreadingHTTPServer on a free port, serving /v1/chat/completions."""
    state = FakeService(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            assert state.reply is not None
            state.reply(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()


def make_request(**overrides: Any) -> ChatRequest:
    values: dict[str, Any] = {
        "system": "You are helpful.\nHere is the knowledge base:\nID: 0\nWalruses live here.",
        "history": [Message("user", "Hi"), Message("assistant", "Hello! How can I help?")],
        "question": "Where do walruses live?",
        "knowledge": [KnowledgeChunk(0, "Walruses live here.", "walrus.txt")],
    }
    values.update(overrides)
    return ChatRequest(**values)


def collect(model: OpenAICompatibleChatModel, request: ChatRequest) -> list[str]:
    async def run() -> list[str]:
        return [delta async for delta in model.stream(request)]

    return asyncio.run(run())


def model_for(service: FakeService, *, api_key: str = "sk-test", timeout: float = 5.0) -> Any:
    return OpenAICompatibleChatModel("qwen2.5@Ollama", service.base_url, api_key, timeout)


def test_streams_the_deltas_and_sends_an_openai_request(service: FakeService) -> None:
    service.reply = sse_reply("Walruses ", "live ", "here [ID:0]", "")
    request = make_request(temperature=0.2, max_tokens=100)

    assert collect(model_for(service), request) == ["Walruses ", "live ", "here [ID:0]"]

    (sent,) = service.requests
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    body = sent["json"]
    assert body["model"] == "qwen2.5"
    assert body["stream"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"].startswith(request.system)
    assert QUOTE_INSTRUCTION in body["messages"][0]["content"]
    assert body["messages"][1:] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Where do walruses live?"},
    ]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 100
    assert (body["top_p"], body["presence_penalty"], body["frequency_penalty"]) == (0.3, 0.4, 0.7)


def test_no_citation_instruction_without_quote_or_knowledge(service: FakeService) -> None:
    service.reply = sse_reply("ok")
    collect(model_for(service), make_request(quote=False))
    collect(model_for(service), make_request(knowledge=[], system=""))
    without_quote, without_knowledge = (r["json"]["messages"] for r in service.requests)
    assert QUOTE_INSTRUCTION not in without_quote[0]["content"]
    # An empty system prompt is left out rather than sent empty.
    assert [m["role"] for m in without_knowledge] == ["user", "assistant", "user"]


def test_no_authorization_header_without_a_key(service: FakeService) -> None:
    service.reply = sse_reply("ok")
    assert collect(model_for(service, api_key=""), make_request()) == ["ok"]
    assert "Authorization" not in service.requests[0]["headers"]


def test_a_stream_without_done_still_ends(service: FakeService) -> None:
    service.reply = sse_reply("a", "b", done=False)
    assert collect(model_for(service), make_request()) == ["a", "b"]


def test_a_non_streaming_json_answer_is_yielded_whole(service: FakeService) -> None:
    answer = {"choices": [{"message": {"role": "assistant", "content": "All at once [ID:0]"}}]}
    service.reply = body_reply(200, json.dumps(answer).encode())
    assert collect(model_for(service), make_request()) == ["All at once [ID:0]"]


def test_unauthorized_names_the_status_and_the_key(service: FakeService) -> None:
    service.reply = body_reply(401, b'{"error": {"message": "Incorrect API key provided"}}')
    with pytest.raises(ChatModelError) as caught:
        collect(model_for(service), make_request())
    assert "HTTP 401" in caught.value.message
    assert "API key" in caught.value.message
    assert "Incorrect API key provided" in caught.value.message
    assert service.base_url in caught.value.message


def test_server_error_names_the_status_and_a_body_excerpt(service: FakeService) -> None:
    service.reply = body_reply(500, b"upstream exploded " + b"x" * 1000, "text/plain")
    with pytest.raises(ChatModelError) as caught:
        collect(model_for(service), make_request())
    assert "HTTP 500" in caught.value.message
    assert "upstream exploded" in caught.value.message
    assert len(caught.value.message) < 400


def test_not_found_hints_at_the_model_name(service: FakeService) -> None:
    service.reply = body_reply(404, b'{"error": "model \\"qwen2.5\\" not found"}')
    with pytest.raises(ChatModelError) as caught:
        collect(model_for(service), make_request())
    assert "HTTP 404" in caught.value.message and "model not found?" in caught.value.message


def test_a_malformed_stream_is_an_error(service: FakeService) -> None:
    service.reply = body_reply(200, b"data: {not json\n\n", "text/event-stream")
    with pytest.raises(ChatModelError, match="malformed stream"):
        collect(model_for(service), make_request())


def test_an_error_event_in_the_stream_is_an_error(service: FakeService) -> None:
    body = b'data: {"error": {"message": "context length exceeded"}}\n\n'
    service.reply = body_reply(200, body, "text/event-stream")
    with pytest.raises(ChatModelError, match="context length exceeded"):
        collect(model_for(service), make_request())


def test_an_unreachable_service_is_an_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = OpenAICompatibleChatModel("m@F", f"http://127.0.0.1:{port}/v1", "", 5.0)
    with pytest.raises(ChatModelError) as caught:
        collect(model, make_request())
    assert "unreachable" in caught.value.message
    assert f"127.0.0.1:{port}" in caught.value.message


def test_a_stalling_service_times_out(service: FakeService) -> None:
    service.reply = stalling_reply(3)
    started = time.monotonic()
    with pytest.raises(ChatModelError) as caught:
        collect(model_for(service, timeout=0.5), make_request())
    assert time.monotonic() - started < 2.5
    assert "timed out after 0.5 s" in caught.value.message


def test_the_event_loop_keeps_running_while_waiting(service: FakeService) -> None:
    service.reply = stalling_reply(0.3)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def run() -> list[str]:
        task = asyncio.create_task(ticker())
        deltas = [d async for d in model_for(service).stream(make_request())]
        task.cancel()
        return deltas

    assert asyncio.run(run()) == ["too late"]
    assert ticks >= 10


def test_model_identity() -> None:
    model = OpenAICompatibleChatModel("qwen2.5@Ollama", "http://localhost:11434/v1/", "", 60)
    assert model.model_id == "qwen2.5@Ollama"
    assert model.model_name == "qwen2.5"
    assert model.extractive is False
