"""ragflow-sdk 0.22.1 and the openai client against Daphne: the guide's steps 6, 7 and 2."""

from __future__ import annotations

import importlib.metadata

import pytest
from openai import OpenAI
from ragflow_sdk import RAGFlow

from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FACTS = [
    "RAGFlow-compatible servers store knowledge in datasets.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Postgres with pgvector keeps one embedding per chunk.",
    "海象群在科尔古耶夫岛上被统计为4312只。",
]


@pytest.fixture
def key() -> str:
    user = User.objects.create_user("sdk-chat", password="sdk-password-1")
    return api_key_create(user=user, generation="v0.22")[1]


# Python 3.13 installs ragflow-sdk 0.27.3 (0.22.1 needs < 3.13): test_sdk_chat_v027 covers it.
@pytest.mark.skipif(
    importlib.metadata.version("ragflow-sdk") != "0.22.1",
    reason="a v0.22 key with ragflow-sdk 0.22.1; this venv has another ragflow-sdk",
)
def test_sdk_chat_sessions_and_streamed_answers(live_server_url: str, key: str) -> None:
    rag = RAGFlow(api_key=key, base_url=live_server_url)
    ds = rag.create_dataset(name="kb_chat")
    (doc,) = ds.upload_documents([{"display_name": "facts.txt", "blob": b"placeholder"}])
    for fact in FACTS:
        doc.add_chunk(content=fact)

    chat = rag.create_chat("Miss R", dataset_ids=[ds.id])
    assert chat.id and chat.name == "Miss R"
    chat.update({"name": "Stefan", "llm": {"temperature": 0.8}, "prompt": {"top_n": 8}})
    (fresh,) = rag.list_chats(id=chat.id)
    assert fresh.name == "Stefan" and fresh.llm.temperature == 0.8 and fresh.prompt.top_n == 8
    assert rag.list_chats(name="Stefan")[0].id == chat.id

    session = chat.create_session("session_name")
    session.update({"name": "updated_name"})
    assert any(s.name == "updated_name" for s in chat.list_sessions())

    answers = list(session.ask("How many walruses were counted on Kolguev island?", stream=True))
    assert len(answers) > 1 and "4312" in answers[-1].content
    assert all(len(a.content) <= len(b.content) for a, b in zip(answers, answers[1:], strict=False))
    assert any(a.reference for a in answers)

    (plain,) = list(session.ask("What does pgvector keep per chunk?", stream=False))
    assert "embedding" in plain.content.lower()

    chinese = list(session.ask("科尔古耶夫岛上的海象有多少只？", stream=True))
    assert "4312" in chinese[-1].content and "海象" in chinese[-1].content  # decoded as UTF-8

    (listed,) = [s for s in chat.list_sessions() if s.id == session.id]
    roles = [m["role"] for m in listed.messages]
    assert roles.count("user") == 3 and roles.count("assistant") == 4

    chat.delete_sessions(ids=[session.id])
    assert all(s.id != session.id for s in chat.list_sessions())
    rag.delete_chats(ids=[chat.id])
    assert all(c.id != chat.id for c in rag.list_chats(page_size=100))


def test_openai_client_stream_and_not(live_server_url: str, key: str) -> None:
    rag = RAGFlow(api_key=key, base_url=live_server_url)
    ds = rag.create_dataset(name="kb_openai")
    (doc,) = ds.upload_documents([{"display_name": "facts.txt", "blob": b"placeholder"}])
    for fact in FACTS[:3]:
        doc.add_chunk(content=fact)
    chat = rag.create_chat("openai", dataset_ids=[ds.id])
    client = OpenAI(api_key=key, base_url=f"{live_server_url}/api/v1/chats_openai/{chat.id}")
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "How many walruses were counted on Kolguev island?"},
    ]
    whole = client.chat.completions.create(model="model", messages=messages, stream=False)
    assert "4312" in whole.choices[0].message.content
    assert whole.usage.total_tokens > 0
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model="model", messages=messages, stream=True)
        if c.choices
    )
    assert "4312" in streamed
    with_reference = client.chat.completions.create(
        model="model", messages=messages, stream=False, extra_body={"reference": True}
    )
    assert with_reference.choices[0].message.model_extra["reference"]
