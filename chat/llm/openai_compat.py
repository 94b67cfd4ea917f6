"""Chat through an OpenAI-compatible service (Ollama, vLLM, LM Studio, OpenAI…), streamed.

`POST {base_url}/chat/completions` with `stream: true`, read as server-sent events. A server that
ignores `stream` and answers one JSON object is accepted too. Every failure becomes a
`ChatModelError` whose message tells the user what to check.
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

from chat.llm.base import ChatModelError, ChatRequest
from knowledge.enrichment.llm import EXCERPT_CHARS, error_excerpt, http_failure


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle costs ~20 ms, on the event loop."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


QUOTE_INSTRUCTION = (
    "When a sentence of your answer uses the knowledge base, end it with the citation [ID:n], "
    "where n is the ID of the chunk it came from (for example [ID:0]). "
    "Cite only chunks you actually used."
)


def build_messages(request: ChatRequest) -> list[dict[str, str]]:
    """System prompt (with the citation instruction when quoting), history, then the question."""
    system = request.system
    if request.quote and request.knowledge:
        system = f"{system}\n\n{QUOTE_INSTRUCTION}" if system else QUOTE_INSTRUCTION
    messages = [{"role": "system", "content": system}] if system else []
    messages += [
        {"role": m.role, "content": m.content} for m in request.history if m.role != "system"
    ]
    messages.append({"role": "user", "content": request.question})
    return messages


class OpenAICompatibleChatModel:
    """A chat model served by an OpenAI-compatible API."""

    extractive = False

    def __init__(self, model_id: str, base_url: str, api_key: str, timeout: float) -> None:
        self.model_id = model_id
        self.model_name = model_id.rsplit("@", 1)[0]
        self.base_url = base_url.rstrip("/")
        self._url = f"{self.base_url}/chat/completions"
        self._headers = {"Accept": "text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "messages": build_messages(request),
            "stream": True,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
        }

    def _fail(self, what: str) -> ChatModelError:
        return ChatModelError(f"The chat model service at {self.base_url} {what}")

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the answer's text deltas as the service sends them."""
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, verify=_tls_context()) as client,
                client.stream(
                    "POST", self._url, json=self._payload(request), headers=self._headers
                ) as response,
            ):
                if response.status_code != 200:
                    body = await response.aread()
                    raise self._fail(http_failure(response.status_code, body))
                async for delta in self._deltas(response):
                    yield delta
        except httpx.TimeoutException as exc:
            raise self._fail(f"timed out after {self.timeout:g} s.") from exc
        except httpx.HTTPError as exc:
            # Connection refused, DNS failure, reset mid-stream: the service is not reachable.
            reason = str(exc) or type(exc).__name__
            raise self._fail(f"is unreachable ({reason}).") from exc

    async def _deltas(self, response: httpx.Response) -> AsyncIterator[str]:
        """Text deltas from an SSE stream, or the whole answer of a plain JSON reply."""
        if response.headers.get("content-type", "").startswith("application/json"):
            yield self._whole_answer(await response.aread())
            return
        other_lines: list[str] = []
        saw_events = False
        async for line in response.aiter_lines():
            line = line.strip()
            if not line or line.startswith(":"):
                continue  # event separators and SSE comments (keep-alives)
            if not line.startswith("data:"):
                if not line.startswith(("event:", "id:", "retry:")):
                    other_lines.append(line)
                continue
            saw_events = True
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            delta = self._event_delta(data)
            if delta:
                yield delta
        if not saw_events and other_lines:
            # A server that ignored "stream" under a non-JSON content type.
            yield self._whole_answer("\n".join(other_lines).encode())

    def _event_delta(self, data: str) -> str:
        """The content of one `data:` event; "" for role-only, empty and final chunks."""
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise self._fail(f"sent a malformed stream event: {data[:EXCERPT_CHARS]}") from exc
        if not isinstance(event, dict):
            raise self._fail(f"sent a malformed stream event: {data[:EXCERPT_CHARS]}")
        if "error" in event:
            raise self._fail(f"reported an error: {error_excerpt(data.encode())}")
        choices = event.get("choices") or []
        if not choices:
            return ""  # usage-only chunks carry no text
        if not isinstance(choices[0], dict):
            raise self._fail(f"sent a malformed stream event: {data[:EXCERPT_CHARS]}")
        content = (choices[0].get("delta") or {}).get("content")
        return content if isinstance(content, str) else ""

    def _whole_answer(self, body: bytes) -> str:
        """`choices[0].message.content` of a non-streamed reply."""
        try:
            data = json.loads(body)
            if isinstance(data, dict) and "error" in data:
                raise self._fail(f"reported an error: {error_excerpt(body)}")
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            excerpt = error_excerpt(body)
            raise self._fail(f"sent an answer that is not a chat completion: {excerpt}") from exc
        return content if isinstance(content, str) else ""
