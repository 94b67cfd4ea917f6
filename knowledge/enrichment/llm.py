"""One chat completion from an OpenAI-compatible service (Ollama, vLLM, LM Studio, OpenAI…).

Plain `POST {base_url}/chat/completions` without streaming. Every failure becomes an `LLMError`
whose message names the service and what it said, for a job's log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from knowledge.parsing.tokens import count_tokens

EXCERPT_CHARS = 200
_STATUS_HINTS = {
    401: "check the API key",
    403: "check the API key and its permissions",
    404: "model not found? check the model name and the base URL",
    429: "rate limited; try again later",
}
# Reasoning models may think aloud first; only what follows the thinking is the answer.
_THINKING = re.compile(r"^.*</think>", re.DOTALL)


@dataclass(frozen=True)
class ChatModelConfig:
    """Where a chat model is served; `model_id` is `name@factory`."""

    model_id: str
    base_url: str
    api_key: str = ""
    timeout: float = 60.0

    @property
    def model_name(self) -> str:
        return self.model_id.rsplit("@", 1)[0]


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # prompt + answer, as the service reported (else counted here)


class LLMError(Exception):
    """The service did not answer; `message` says which service and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_excerpt(body: bytes) -> str:
    """The service's own error message if it sent one, else the start of its body."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error", data.get("message", data.get("detail")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if isinstance(error, str) and error:
            text = error
    text = " ".join(text.split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def http_failure(status_code: int, body: bytes) -> str:
    """What to say of an answer that is not HTTP 200: 'answered HTTP 401 (check…): message'."""
    hint = _STATUS_HINTS.get(status_code)
    status = f"HTTP {status_code}" + (f" ({hint})" if hint else "")
    excerpt = error_excerpt(body)
    return f"answered {status}" + (f": {excerpt}" if excerpt else ".")


def complete(
    config: ChatModelConfig,
    messages: list[dict[str, str]],
    *,
    max_tokens: int = 512,
    temperature: float = 0.2,
) -> Completion:
    """The model's answer to `messages` (thinking removed)."""
    url = f"{config.base_url.rstrip('/')}/chat/completions"
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    payload: dict[str, Any] = {
        "model": config.model_name,
        "messages": messages,
        "stream": False,
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    where = f"The chat model {config.model_id} at {config.base_url}"
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=config.timeout)
    except httpx.TimeoutException as exc:
        raise LLMError(f"{where} timed out after {config.timeout:g} s.") from exc
    except httpx.HTTPError as exc:
        raise LLMError(f"{where} is unreachable ({str(exc) or type(exc).__name__}).") from exc
    if response.status_code != 200:
        raise LLMError(f"{where} {http_failure(response.status_code, response.content)}")
    try:
        data = response.json()
        if isinstance(data, dict) and "error" in data:
            raise LLMError(f"{where} reported an error: {error_excerpt(response.content)}")
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LLMError(
            f"{where} sent an answer that is not a chat completion: {error_excerpt(response.content)}"
        ) from exc
    text = _THINKING.sub("", content if isinstance(content, str) else "").strip()
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tokens = usage.get("total_tokens") if usage else None
    if not isinstance(tokens, int):
        tokens = sum(count_tokens(m.get("content", "")) for m in messages) + count_tokens(text)
    return Completion(text=text, tokens=tokens)
