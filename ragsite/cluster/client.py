"""A small HTTP client for the RAGFlow API of a running site: smoke checks, fault tests and the
load benchmark drive the cluster through it, as any outside client would."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


class NotEnvelope(Exception):
    """The answer under /api/v1 was not a JSON envelope."""


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    seconds: float

    @property
    def code(self) -> int:
        return int(self.body.get("code", -1))

    @property
    def data(self) -> Any:
        return self.body.get("data")


@dataclass
class Stream:
    """A streamed answer: each `data:` event decoded (or the one envelope sent instead)."""

    status: int
    content_type: str
    events: list[dict[str, Any]]
    seconds: float

    @property
    def terminated(self) -> bool:
        """Ended with RAGFlow's last event, `{"code": 0, "data": true}`."""
        return bool(self.events) and self.events[-1].get("data") is True

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("code") != 0]

    @property
    def answer(self) -> str:
        """The last answer text sent (v0.22 events carry the whole answer so far)."""
        for event in reversed(self.events):
            data = event.get("data")
            if isinstance(data, dict) and data.get("answer"):
                return str(data["answer"])
        return ""


class Api:
    def __init__(self, base_url: str, key: str, timeout: float = 60.0) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = httpx.Client(
            headers={"Authorization": f"Bearer {key}"}, timeout=timeout, trust_env=False
        )

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        started = time.perf_counter()
        response = self.http.request(method, self.base + path, **kwargs)
        seconds = time.perf_counter() - started
        try:
            body = response.json()
        except ValueError:
            raise NotEnvelope(
                f"{method} {path}: HTTP {response.status_code}, {response.headers.get('content-type')}: "
                f"{response.text[:200]!r}"
            ) from None
        if not isinstance(body, dict) or "code" not in body:
            raise NotEnvelope(f"{method} {path}: HTTP {response.status_code}: {body!r:.200}")
        return Answer(response.status_code, body, seconds)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        if answer.code != 0:
            raise AssertionError(f"{method} {path}: {answer.body}")
        return answer.data

    # --- the calls the tests and the benchmark make ---------------------------------------

    def create_dataset(self, name: str) -> str:
        return str(self.ok("POST", "/datasets", json={"name": name})["id"])

    def upload(self, dataset_id: str, name: str, content: bytes) -> str:
        data = self.ok("POST", f"/datasets/{dataset_id}/documents", files={"file": (name, content)})
        return str(data[0]["id"])

    def parse(self, dataset_id: str, document_ids: list[str]) -> None:
        self.ok("POST", f"/datasets/{dataset_id}/chunks", json={"document_ids": document_ids})

    def document(self, dataset_id: str, document_id: str) -> dict[str, Any]:
        data = self.ok("GET", f"/datasets/{dataset_id}/documents", params={"id": document_id})
        return dict(data["docs"][0])

    def wait_parsed(
        self, dataset_id: str, document_id: str, timeout: float = 300
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                doc = self.document(dataset_id, document_id)
            except (httpx.HTTPError, NotEnvelope, AssertionError):
                doc = {}
            if doc.get("run") in {"DONE", "FAIL"}:
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"document {document_id} not parsed in {timeout:.0f} s: {doc}")
            time.sleep(0.5)

    def chunk_ids(self, dataset_id: str, document_id: str) -> list[str]:
        ids: list[str] = []
        page = 1
        while True:
            data = self.ok(
                "GET",
                f"/datasets/{dataset_id}/documents/{document_id}/chunks",
                params={"page": page, "page_size": 100},
            )
            chunks = data["chunks"]
            ids += [c["id"] for c in chunks]
            if len(chunks) < 100:
                return ids
            page += 1

    def retrieval(self, dataset_ids: list[str], question: str) -> Answer:
        return self.call(
            "POST", "/retrieval", json={"question": question, "dataset_ids": dataset_ids}
        )

    def download(self, dataset_id: str, document_id: str) -> bytes:
        response = self.http.get(f"{self.base}/datasets/{dataset_id}/documents/{document_id}")
        response.raise_for_status()
        return response.content

    def create_chat(self, name: str, dataset_ids: list[str]) -> str:
        return str(self.ok("POST", "/chats", json={"name": name, "dataset_ids": dataset_ids})["id"])

    def completion(self, chat_id: str, question: str) -> Answer:
        return self.call(
            "POST", f"/chats/{chat_id}/completions", json={"question": question, "stream": False}
        )

    def create_session(self, chat_id: str, name: str = "session") -> str:
        return str(self.ok("POST", f"/chats/{chat_id}/sessions", json={"name": name})["id"])

    def stream_completion(
        self, chat_id: str, question: str, session_id: str | None = None
    ) -> Stream:
        """A streamed answer (SSE). Without `session_id` the v0.22 path opens a session and
        sends only its opener. Raises NotEnvelope when the answer is neither an event stream of
        JSON envelopes nor a JSON envelope, and httpx.TimeoutException when it stalls."""
        body: dict[str, Any] = {"question": question, "stream": True}
        if session_id is not None:
            body["session_id"] = session_id
        started = time.perf_counter()
        path = f"/chats/{chat_id}/completions"
        with self.http.stream("POST", self.base + path, json=body) as response:
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                response.read()
                try:
                    envelope = response.json()
                except ValueError:
                    envelope = None
                if not isinstance(envelope, dict) or "code" not in envelope:
                    raise NotEnvelope(
                        f"POST {path}: HTTP {response.status_code}, {content_type}: "
                        f"{response.text[:200]!r}"
                    )
                events = [envelope]
            else:
                events = []
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    try:
                        event = json.loads(line[5:])
                    except ValueError:
                        raise NotEnvelope(
                            f"POST {path}: an event is not JSON: {line[:200]!r}"
                        ) from None
                    if not isinstance(event, dict) or "code" not in event:
                        raise NotEnvelope(f"POST {path}: an event is no envelope: {line[:200]!r}")
                    events.append(event)
        return Stream(response.status_code, content_type, events, time.perf_counter() - started)
