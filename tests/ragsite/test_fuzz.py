"""Hypothesis throws hostile requests at every /api/v1 route: each must answer the JSON envelope
(HTTP 200, no 5xx), carry no exception text, SQL or paths, and a rejected request must change
no rows. Another tenant's rows never change, whatever is sent."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.models import AgentSession
from ragsite.accounts.models import User
from tests.conftest import ApiClient
from tests.world import World

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# What no client should ever read: exception reprs, tracebacks, SQL, file-system paths.
LEAKS = re.compile(
    r"\b[A-Z][A-Za-z]*(Error|Exception)\(|Traceback|\bLINE \d|psycopg|"
    r"\b(SELECT|UPDATE|INSERT INTO|DELETE FROM)\b .*\b(FROM|SET|VALUES|WHERE)\b|"
    r"/var/|/tmp/|/work/|site-packages|\.py\b"
)

FIELDS = [
    "ids", "chunk_ids", "document_ids", "dataset_ids", "delete_all", "name", "title",
    "question", "content", "important_keywords", "questions", "page", "page_size", "top_k",
    "similarity_threshold", "vector_similarity_weight", "stream", "session_id", "user_id",
    "messages", "llm", "prompt", "dsl", "description", "chunk_method", "parser_config",
    "enabled", "meta_fields", "metadata_condition", "highlight", "rerank_id", "available",
]  # fmt: skip
NASTY_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "\udfff x", "x" * 300, "1e400", "-1", "null", "[]"]
)
TEXT = st.one_of(st.text(max_size=40), NASTY_TEXT)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), TEXT), children, max_size=4),
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5).map(json.dumps),
    JSON.map(json.dumps),
    # Broken JSON: a valid body cut short or with a trailing comma.
    st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=3).map(
        lambda d: json.dumps(d)[:-1] + ",}"
    ),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.just("[" * 5000 + "]" * 5000),
)
QUERIES = st.dictionaries(st.sampled_from(FIELDS + ["id", "orderby", "desc"]), TEXT, max_size=3)

ROUTES = [
    ("get", "/api/v1/datasets"),
    ("post", "/api/v1/datasets"),
    ("put", "/api/v1/datasets/{ds}"),
    ("delete", "/api/v1/datasets"),
    ("get", "/api/v1/datasets/{ds}/documents"),
    ("put", "/api/v1/datasets/{ds}/documents/{doc}"),
    ("delete", "/api/v1/datasets/{ds}/documents"),
    ("post", "/api/v1/datasets/{ds}/chunks"),
    ("delete", "/api/v1/datasets/{ds}/chunks"),
    ("get", "/api/v1/datasets/{ds}/documents/{doc}/chunks"),
    ("post", "/api/v1/datasets/{ds}/documents/{doc}/chunks"),
    ("put", "/api/v1/datasets/{ds}/documents/{doc}/chunks/{chunk}"),
    ("delete", "/api/v1/datasets/{ds}/documents/{doc}/chunks"),
    ("post", "/api/v1/retrieval"),
    ("get", "/api/v1/chats"),
    ("post", "/api/v1/chats"),
    ("put", "/api/v1/chats/{chat}"),
    ("delete", "/api/v1/chats"),
    ("get", "/api/v1/chats/{chat}/sessions"),
    ("post", "/api/v1/chats/{chat}/sessions"),
    ("put", "/api/v1/chats/{chat}/sessions/{session}"),
    ("delete", "/api/v1/chats/{chat}/sessions"),
    ("post", "/api/v1/chats/{chat}/completions"),
    ("post", "/api/v1/chats_openai/{chat}/chat/completions"),
    ("get", "/api/v1/agents"),
    ("post", "/api/v1/agents"),
    ("put", "/api/v1/agents/{agent}"),
    ("get", "/api/v1/agents/{agent}/sessions"),
    ("post", "/api/v1/agents/{agent}/sessions"),
    ("delete", "/api/v1/agents/{agent}/sessions"),
    ("post", "/api/v1/agents/{agent}/completions"),
    ("post", "/api/v1/agents_openai/{agent}/chat/completions"),
    # RAGFlow v0.27's routes.
    ("get", "/api/v1/datasets/{ds}"),
    ("patch", "/api/v1/datasets/{ds}/documents/{doc}"),
    ("get", "/api/v1/datasets/{ds}/documents/{doc}/chunks/{chunk}"),
    ("patch", "/api/v1/datasets/{ds}/documents/{doc}/chunks/{chunk}"),
    ("get", "/api/v1/chats/{chat}"),
    ("patch", "/api/v1/chats/{chat}"),
    ("get", "/api/v1/chats/{chat}/sessions/{session}"),
    ("patch", "/api/v1/chats/{chat}/sessions/{session}"),
    ("post", "/api/v1/chat/completions"),
    ("post", "/api/v1/openai/{chat}/chat/completions"),
    ("get", "/api/v1/agents/{agent}"),
    ("post", "/api/v1/agents/chat/completions"),
    ("get", "/api/v1/agents/{agent}/sessions/{agent_session}"),
]


# A plausible body per route; the fuzzer replaces or adds one field with a hostile value.
GOOD: dict[str, dict[str, Any]] = {
    "/api/v1/datasets": {"name": "kb", "chunk_method": "naive"},
    "/api/v1/datasets/{ds}": {"name": "kb2", "description": "d"},
    "/api/v1/datasets/{ds}/documents/{doc}": {"name": "n0.txt", "meta_fields": {"a": 1}},
    "/api/v1/datasets/{ds}/chunks": {"document_ids": ["{doc}"]},
    "/api/v1/datasets/{ds}/documents/{doc}/chunks": {"content": "Seals rest.", "questions": []},
    "/api/v1/datasets/{ds}/documents/{doc}/chunks/{chunk}": {"content": "Rivers thaw."},
    "/api/v1/retrieval": {"question": "walrus", "dataset_ids": ["{ds}"], "top_k": 5},
    "/api/v1/chats": {"name": "c", "dataset_ids": [], "prompt": {"top_n": 3}},
    "/api/v1/chats/{chat}": {"name": "c2", "llm": {"temperature": 0.2}},
    "/api/v1/chats/{chat}/sessions": {"name": "s"},
    "/api/v1/chats/{chat}/sessions/{session}": {"name": "s2"},
    "/api/v1/chats/{chat}/completions": {"question": "walrus?", "session_id": "{session}"},
    "/api/v1/chats_openai/{chat}/chat/completions": {
        "model": "m",
        "messages": [{"role": "user", "content": "walrus?"}],
        "stream": False,
    },
    "/api/v1/agents": {"title": "a2", "dsl": {}},
    "/api/v1/agents/{agent}": {"title": "a3"},
    "/api/v1/agents/{agent}/sessions": {},
    "/api/v1/agents/{agent}/completions": {"question": "walrus?", "stream": False},
    "/api/v1/chat/completions": {"question": "walrus?", "chat_id": "{chat}", "stream": False},
    "/api/v1/openai/{chat}/chat/completions": {
        "model": "model",
        "messages": [{"role": "user", "content": "walrus?"}],
    },
    "/api/v1/agents/chat/completions": {"agent_id": "{agent}", "query": "walrus?"},
    "/api/v1/agents_openai/{agent}/chat/completions": {
        "model": "m",
        "messages": [{"role": "user", "content": "walrus?"}],
    },
}
MUTATIONS = st.tuples(st.sampled_from(FIELDS), JSON)


def _good_body(template: str, ids: dict[str, str], mutation: tuple[str, Any]) -> str:
    text = json.dumps(GOOD.get(template, {}))
    for key, value in ids.items():
        text = text.replace("{" + key + "}", value)
    body = json.loads(text)
    field, value = mutation
    if field in body or len(body) < 2:
        body[field] = value
    return json.dumps(body)


def _ids(world: World) -> dict[str, str]:
    return {
        "ds": world.dataset.pk,
        "doc": world.documents[0].pk,
        "chunk": world.chunks[1].pk,
        "chat": world.chats[0].pk,
        "session": world.sessions[1].pk,
        "agent": world.agent.pk,
        "agent_session": AgentSession.objects.filter(tenant=world.tenant).first().pk,  # type: ignore[union-attr]
    }


def _messages(response: Any) -> list[tuple[int, str]]:
    """(code, message) of the envelope, or of every event of a stream."""
    if response.streaming:

        async def gather() -> bytes:
            return b"".join([part async for part in response.streaming_content])

        content = async_to_sync(gather)()
    else:
        content = response.content
    text = content.decode("utf-8")
    kind = response["Content-Type"]
    if kind.startswith("text/event-stream"):
        out = []
        for line in text.splitlines():
            payload = line.removeprefix("data:").strip()
            if line.startswith("data:") and payload and payload != "[DONE]":
                event = json.loads(payload)
                out.append((event.get("code", 0), json.dumps(event, ensure_ascii=False)))
        return out
    assert kind.startswith("application/json"), (kind, text[:300])
    body = json.loads(text)
    if "code" not in body:  # an OpenAI object
        return [(0, text)]
    return [(body["code"], str(body.get("message", "")))]


@pytest.fixture
def worlds(tenant: User, other_tenant: User) -> tuple[World, World]:
    return World(tenant), World(other_tenant)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(BODIES, MUTATIONS),
    query=QUERIES,
    generation=st.sampled_from(["", "v0.22", "v0.27"]),
)
def test_hostile_requests_answer_the_envelope_and_lose_nothing(
    api: ApiClient,
    worlds: tuple[World, World],
    route: tuple[str, str],
    body: str | tuple[str, Any],
    query: dict,
    generation: str,
) -> None:
    mine, theirs = worlds
    method, template = route
    ids = _ids(mine)
    path = template.format(**ids)
    if isinstance(body, tuple):
        body = _good_body(template, ids, body)
    headers = {**api.headers, "X-Ragsite-Generation": generation}
    their_rows = theirs.counts()
    before = mine.counts()
    if method == "get":
        # Percent-encode the raw bytes: a lone surrogate arrives as invalid UTF-8.
        raw = "&".join(
            f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
            for k, v in query.items()
        )
        response = api.client.get(f"{path}?{raw}", headers=headers)
    else:
        response = getattr(api.client, method)(
            path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json",
            headers=headers,
        )  # fmt: skip
    assert response.status_code == 200, (method, path, body[:200], response.status_code)
    answers = _messages(response)
    for _code, message in answers:
        assert not LEAKS.search(message), (method, path, body[:200], message[:500])
    rejected = answers and answers[0][0] != 0
    if rejected:
        assert mine.counts() == before, (method, path, body[:200], answers[0])
    assert theirs.counts() == their_rows, (method, path, body[:200])
