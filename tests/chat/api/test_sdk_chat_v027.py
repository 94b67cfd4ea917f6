"""ragflow-sdk 0.27.3 (Python 3.13, its own venv: tests/sdk_clients.py) and its `openai` against
Daphne: every chat call the SDK makes, with a v0.27 key."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.sdk_clients import SdkClient, SdkUnavailable, sdk27_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FACTS = [
    "RAGFlow-compatible servers store knowledge in datasets.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Postgres with pgvector keeps one embedding per chunk.",
    "海象群在科尔古耶夫岛上被统计为4312只。",
]

SCRIPT = """
import os
from openai import OpenAI
from ragflow_sdk import RAGFlow

URL, KEY, DATASET = os.environ["URL"], os.environ["KEY"], os.environ["DATASET"]
rag = RAGFlow(api_key=KEY, base_url=URL)

chat = rag.create_chat("Miss R", dataset_ids=[DATASET])
assert chat.id and chat.name == "Miss R" and chat.dataset_ids == [DATASET], chat
assert chat.kb_names == ["facts"]
assert rag.get_chat(chat.id).name == "Miss R"

chat.update({"name": "Stefan", "llm": {"temperature": 0.8}, "prompt": {"top_n": 8}})
(fresh,) = rag.list_chats(id=chat.id)
assert fresh.name == "Stefan" and fresh.llm.temperature == 0.8 and fresh.prompt.top_n == 8
chat.update({"llm_setting": {"top_p": 0.5}, "prompt_config": {"prologue": "Hello walrus fans"}})
fresh = rag.get_chat(chat.id)
assert fresh.llm_setting.top_p == 0.5 and fresh.llm_setting.temperature == 0.8  # merged
assert fresh.prompt_config.prologue == "Hello walrus fans"
assert [c.id for c in rag.list_chats(keywords="stef")] == [chat.id]
assert rag.list_chats(name="Stefan")[0].id == chat.id
assert any(c.id == chat.id for c in rag.list_chats(page_size=100))

session = chat.create_session("session_name")
assert session.messages[0]["content"] == "Hello walrus fans"
session.update({"name": "updated_name"})
assert [s.name for s in chat.list_sessions()] == ["updated_name"]
other = chat.create_session("other")
assert [s.id for s in chat.list_sessions(user_id=session.user_id)] == [other.id, session.id]

answers = list(session.ask("How many walruses were counted on Kolguev island?", stream=True))
assert len(answers) > 1 and "4312" in answers[-1].content, [a.content for a in answers]
assert all(len(a.content) <= len(b.content) for a, b in zip(answers, answers[1:]))
assert any(a.reference for a in answers)

(plain,) = list(session.ask("What does pgvector keep per chunk?", stream=False))
assert "embedding" in plain.content.lower() and plain.reference

chinese = list(session.ask("科尔古耶夫岛上的海象有多少只？", stream=True))
assert "4312" in chinese[-1].content and "海象" in chinese[-1].content

(listed,) = [s for s in chat.list_sessions() if s.id == session.id]
roles = [m["role"] for m in listed.messages]
assert roles.count("user") == 3 and roles.count("assistant") == 4, roles

chat.delete_sessions(ids=[other.id])
assert [s.id for s in chat.list_sessions()] == [session.id]
chat.delete_sessions(delete_all=True)
assert chat.list_sessions() == []

messages = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How many walruses were counted on Kolguev island?"},
]
# The new path answers without streaming unless asked (the client omits `stream`).
new = OpenAI(api_key=KEY, base_url=f"{URL}/api/v1/openai/{chat.id}")
whole = new.chat.completions.create(model="model", messages=messages)
assert "4312" in whole.choices[0].message.content and whole.model == chat.llm_id
for path in ("openai", "chats_openai"):
    client = OpenAI(api_key=KEY, base_url=f"{URL}/api/v1/{path}/{chat.id}")
    whole = client.chat.completions.create(model="model", messages=messages, stream=False)
    assert "4312" in whole.choices[0].message.content and whole.usage.total_tokens > 0
    streamed = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model="model", messages=messages, stream=True)
        if c.choices
    )
    assert "4312" in streamed
    cited = client.chat.completions.create(
        model="model", messages=messages, stream=False, extra_body={"reference": True}
    )
    assert cited.choices[0].message.model_extra["reference"]

rag.delete_chats(ids=[chat.id])
assert all(c.id != chat.id for c in rag.list_chats(page_size=100))
print("sdk 0.27.3 chat round trip: ok")
"""


@pytest.fixture
def client() -> SdkClient:
    try:
        return sdk27_client()
    except SdkUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def facts() -> tuple[str, Dataset]:
    user = User.objects.create_user("sdk27-chat", password="sdk-password-1")
    dataset = dataset_create(tenant=user, name="facts")
    document = Document.objects.create(
        dataset=dataset, tenant=user, name="facts.txt", type="doc", suffix="txt"
    )
    for fact in FACTS:
        chunk_add(document=document, content=fact)
    return api_key_create(user=user, generation="v0.27")[1], dataset


def test_sdk_0273_chat_round_trip(
    live_server_url: str, client: SdkClient, facts: tuple[str, Dataset], tmp_path: Path
) -> None:
    key, dataset = facts
    script = tmp_path / "chat_round_trip.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [str(client.python), str(script)],
        env={"URL": live_server_url, "KEY": key, "DATASET": dataset.pk, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "sdk 0.27.3 chat round trip: ok" in done.stdout
