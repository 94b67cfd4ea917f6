"""A tiny OpenAI-protocol chat model: `POST /v1/chat/completions`, streamed as SSE.

It answers every request with the same 60 tokens, token k (from 1) due k × delay after the
request arrived, to stand in for a fast model without spending CPU. It runs in threads of the
benchmark process, so the time it received each request and sent its first token are on the
benchmark's own `time.perf_counter()` clock: the client can split its latency into "before
the model was called" (retrieval, prompt) and the rest.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = (
    "According to the knowledge base, the passage that matches your question states the fact "
    "directly, and it is the most relevant of the retrieved chunks [ID:0]. The other chunks "
    "discuss unrelated local matters such as budgets, transport and public works, so they do "
    "not change this answer. If you need more detail, ask a follow-up question about the same "
    "subject."
)


def tokens(text: str = ANSWER) -> list[str]:
    """Whitespace-separated words, each but the first with its leading space."""
    words = text.split()
    return [words[0], *(f" {w}" for w in words[1:])]


class FakeLLM:
    """Start with `start()`, stop with `stop()`; `received` and `first_sent` are perf_counter
    times per streamed request, in arrival order."""

    def __init__(self, delay_s: float = 0.005, answer: str = ANSWER) -> None:
        self.delay_s = delay_s
        self.tokens = tokens(answer)
        self.received: list[float] = []
        self.first_sent: list[float] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # one small write per token: no Nagle delays

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if not body.get("stream"):
                    message = {"role": "assistant", "content": "".join(llm.tokens)}
                    self._json(200, {"choices": [{"index": 0, "message": message}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self._event({"role": "assistant", "content": ""})
                for index, token in enumerate(llm.tokens):
                    # On a schedule, not delay after delay: oversleeping does not accumulate.
                    time.sleep(max(0.0, arrived + (index + 1) * llm.delay_s - time.perf_counter()))
                    self._event({"content": token})
                    if index == 0:
                        with llm.lock:
                            llm.received.append(arrived)
                            llm.first_sent.append(time.perf_counter())
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, delta: dict[str, str]) -> None:
                event = {
                    "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": delta}],
                }
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                blob = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)

        return Handler
