"""A small local chat model service speaking the OpenAI chat-completions protocol, for tests and
benchmarks of the LLM enrichment jobs (auto keywords and questions, RAPTOR, knowledge graphs).

It answers deterministically *from the text it is given*, never from a script of expected
answers:

- a keyword prompt (``## Text Content`` after a task that mentions keywords) gets the passage's
  most frequent content words, comma-separated, as many as the prompt's "top N" asks;
- a question prompt gets one question per sentence of the passage (up to N);
- a summary prompt (RAPTOR's "summarize the following paragraphs") gets the leading sentence of
  each paragraph it was given, joined;
- anything else gets the first sentence of the last user message.

Other prompt kinds (entity and relation extraction, community reports) are answered by handlers
registered with :meth:`LLMServer.register` from the tests that need them. The server records
every request, can wait before answering (``delay``) and can fail on purpose (``fail_with``).

    with LLMServer() as llm:
        provider = ModelProvider(factory="TestLLM", base_url=llm.base_url, chat_models="tiny")

``python -m tests.llm_server --port 8765`` runs it in the foreground (for the benchmarks and by
hand).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (prompt, messages) -> bool, and (prompt, messages) -> answer text; `prompt` is the content of
# the last user message (the system message when there is none).
Matcher = Callable[[str, list[dict[str, Any]]], bool]
Answerer = Callable[[str, list[dict[str, Any]]], str]

_STOPWORD_TEXT = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    one two three many much may might must shall per via upon within without across along among
    around behind beyond near onto toward towards whose yet still even ever every each
    text content passage following paragraphs"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*|[0-9]+|[\u4e00-\u9fff]+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def content_words(text: str) -> list[str]:
    """The passage's words in order, lower-cased, without stopwords and one-letter words."""
    words = [w.lower().strip("'-") for w in _WORD.findall(text)]
    return [w for w in words if len(w) > 1 and w not in STOPWORDS and not w.isdigit()]


def sentences(text: str) -> list[str]:
    """Sentences of a passage (split after . ! ? and their CJK forms, and at line breaks)."""
    found: list[str] = []
    for line in text.splitlines():
        found += [s.strip() for s in _SENTENCE_END.split(line.strip()) if s.strip()]
    return found


def passage_of(prompt: str) -> str:
    """The text a prompt asks about: after a ``## Text Content`` heading, or between RAPTOR's
    "Paragraphs as following:" and "The above is the content", or the whole prompt."""
    if "## Text Content" in prompt:
        return prompt.split("## Text Content", 1)[1].strip()
    match = re.search(r"Paragraphs as following:\s*(.*?)\s*The above is the content", prompt, re.S)
    if match:
        return match.group(1).strip()
    return prompt.strip()


def _top_n(prompt: str, default: int) -> int:
    match = re.search(r"\b(?:top|propose)\s+(\d+)", prompt, re.IGNORECASE)
    return int(match.group(1)) if match else default


def answer_keywords(prompt: str, messages: list[dict[str, Any]]) -> str:
    """The passage's most frequent content words (ties: first seen first), comma-separated."""
    words = content_words(passage_of(prompt))
    counts = Counter(words)
    first = {w: i for i, w in reversed(list(enumerate(words)))}
    ranked = sorted(counts, key=lambda w: (-counts[w], first[w]))
    return ", ".join(ranked[: _top_n(prompt, 5)])


def answer_questions(prompt: str, messages: list[dict[str, Any]]) -> str:
    """One question per sentence of the passage, built from the sentence's own words."""
    questions = []
    for sentence in sentences(passage_of(prompt))[: _top_n(prompt, 3)]:
        words = content_words(sentence)
        if not words:
            continue
        topic = max(words, key=lambda w: (words.count(w), -words.index(w)))
        questions.append(f"What does the text say about {topic}: {sentence.rstrip('.!?。！？')}?")
    return "\n".join(questions)


def answer_summary(prompt: str, messages: list[dict[str, Any]]) -> str:
    """The leading sentence of each paragraph given, joined into one summary."""
    leads = []
    for paragraph in passage_of(prompt).split("\n"):
        found = sentences(paragraph)
        if found:
            leads.append(found[0])
    return " ".join(leads)


def answer_first_sentence(prompt: str, messages: list[dict[str, Any]]) -> str:
    found = sentences(prompt)
    return found[0] if found else "OK."


def is_keyword_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "## Text Content" in prompt and "keyword" in prompt.split("## Text Content")[0].lower()


def is_question_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "## Text Content" in prompt and "question" in prompt.split("## Text Content")[0].lower()


def is_summary_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "summar" in prompt.lower()


def _tokens(text: str) -> int:
    return len(_WORD.findall(text)) + len(re.findall(r"[^\w\s]", text))


@dataclass
class Failure:
    status: int
    message: str
    when: Matcher | None = None  # None: every request


class LLMServer:
    """A ThreadingHTTPServer on a free loopback port serving ``POST /v1/chat/completions``."""

    def __init__(self, *, delay: float = 0.0, port: int = 0, model: str = "tiny") -> None:
        self.delay = delay
        self.model = model
        self.failure: Failure | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # Checked in order; registered handlers come before the built-in ones.
        self._handlers: list[tuple[Matcher, Answerer]] = [
            (is_keyword_prompt, answer_keywords),
            (is_question_prompt, answer_questions),
            (is_summary_prompt, answer_summary),
        ]
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- configuration ---------------------------------------------------------------

    def register(self, matcher: Matcher, answerer: Answerer) -> None:
        """Answer prompts `matcher` accepts with `answerer` (before the built-in handlers)."""
        with self._lock:
            self._handlers.insert(0, (matcher, answerer))

    def fail_with(self, status: int, message: str, when: Matcher | None = None) -> None:
        """Answer HTTP `status` with an OpenAI-style error (only prompts `when` accepts)."""
        self.failure = Failure(status, message, when)

    def prompts(self) -> list[str]:
        """The last user message of every request received, in order."""
        with self._lock:
            return [_prompt_of(r.get("messages") or []) for r in self.requests]

    def answer(self, messages: list[dict[str, Any]]) -> str:
        prompt = _prompt_of(messages)
        with self._lock:
            handlers = list(self._handlers)
        for matcher, answerer in handlers:
            if matcher(prompt, messages):
                return answerer(prompt, messages)
        return answer_first_sentence(prompt, messages)

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> LLMServer:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _prompt_of(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    for message in messages:
        if isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def _handler_for(service: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": service.model}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "the body is not JSON"}})
                return
            with service._lock:
                service.requests.append(payload)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            messages = payload.get("messages") or []
            if service.delay:
                time.sleep(service.delay)
            failure = service.failure
            if failure and (failure.when is None or failure.when(_prompt_of(messages), messages)):
                self._json(failure.status, {"error": {"message": failure.message}})
                return
            text = service.answer(messages)
            usage = {
                "prompt_tokens": sum(_tokens(str(m.get("content", ""))) for m in messages),
                "completion_tokens": _tokens(text),
            }
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            model = payload.get("model", service.model)
            if payload.get("stream"):
                self._stream(text, model, usage)
            else:
                self._json(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage,
                    },
                )

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str, model: str, usage: dict[str, int]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = [text[i : i + 16] for i in range(0, len(text), 16)] or [""]
            events: list[dict[str, Any]] = [{"choices": [{"delta": {"role": "assistant"}}]}]
            events += [{"choices": [{"delta": {"content": p}}]} for p in pieces]
            events.append({"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": usage})
            for event in events:
                event.update(id="chatcmpl-test", object="chat.completion.chunk", model=model)
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = LLMServer(port=args.port, delay=args.delay).start()
    print(f"OpenAI-compatible test LLM at {server.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()


# --- pytest fixtures (imported by tests/conftest.py) ------------------------------------------

try:
    import pytest
except ImportError:  # run as a script without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def llm_server() -> Iterator[LLMServer]:
        """The test chat-model service on a free port."""
        with LLMServer() as server:
            yield server

    @pytest.fixture
    def llm_provider(db: None, llm_server: LLMServer) -> Any:
        """An enabled provider `TestLLM` serving the chat model `tiny@TestLLM` from llm_server."""
        from knowledge.models import ModelProvider

        return ModelProvider.objects.create(
            factory="TestLLM", base_url=llm_server.base_url, chat_models="tiny"
        )
