"""ragflow-sdk 0.27.3 (Python 3.13, its own venv: tests/sdk_clients.py) against Daphne and a real
Celery worker: every memory and message call the SDK makes, with extraction by a chat model
served by tests/llm_server.py."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from agents.models import MemoryMessage
from knowledge.models import ModelProvider
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.agents.memory_llm import answer_memory, is_memory_prompt
from tests.llm_server import LLMServer
from tests.sdk_clients import SdkClient, SdkUnavailable, sdk27_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCRIPT = """
import os, time
from ragflow_sdk import RAGFlow

URL, KEY = os.environ["URL"], os.environ["KEY"]
MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
rag = RAGFlow(api_key=KEY, base_url=URL)

memory = rag.create_memory("trip notes", ["raw", "semantic"], MINILM, "tiny@TestLLM")
assert memory.id and memory.name == "trip notes" and memory.memory_type == ["raw", "semantic"]
other = rag.create_memory("scratch", ["raw"], MINILM, "tiny@TestLLM")

listed = rag.list_memory()
assert listed["code"] == 0 and listed["total_count"] == 2, listed
assert [m.id for m in listed["memory_list"]] == [other.id, memory.id]
assert [m.id for m in rag.list_memory(keywords="trip")["memory_list"]] == [memory.id]
assert rag.list_memory(memory_type=["semantic"])["total_count"] == 1

memory.update({"description": "what the traveller said", "temperature": 0.2})
assert memory.description == "what the traveller said" and memory.temperature == 0.2
memory.get_config()
assert memory.owner_name == "sdk27-memory" and memory.temperature == 0.2

said = "My flight to Reykjavik leaves on the ninth of March."
note = rag.add_message([memory.id], "agent-7", "session-1", said, "Have a good trip!")
assert note == "All add to task.", note
rag.add_message([other.id], "agent-7", "session-2", "Buy oat milk.", "Added to the list.")

deadline = time.time() + 120
while True:
    page = memory.list_memory_messages()
    (raw,) = page["messages"]["message_list"]
    if raw["task"].get("progress") == 1.0 or time.time() > deadline:
        break
    time.sleep(0.5)
assert raw["task"]["progress"] == 1.0, raw
assert [e["message_type"] for e in raw["extract"]] == ["semantic"], raw

hits = rag.search_message("When do I fly to Iceland?", [memory.id, other.id], top_n=3)
assert hits and "Reykjavik" in hits[0]["content"], hits
assert {h["memory_id"] for h in hits} == {memory.id}
semantic = next(h for h in hits if h["message_type"] == "semantic")
assert semantic["content"] == "Fact: " + said and semantic["source_id"] == raw["message_id"]

recent = rag.get_recent_messages([memory.id, other.id], limit=10)
assert len(recent) == 3 and recent[0]["valid_at"] >= recent[-1]["valid_at"], recent
assert [m["content"] for m in rag.get_recent_messages([other.id])][0].startswith("User Input: Buy")

content = memory.get_message_content(semantic["message_id"])
assert content["id"] == f"{memory.id}_{semantic['message_id']}"
assert len(content["content_embed"]) == 384

assert memory.update_message_status(semantic["message_id"], False) is True
assert all(h["message_id"] != semantic["message_id"]
           for h in rag.search_message("Reykjavik flight", [memory.id]))
assert memory.forget_message(raw["message_id"]) is True
assert all(h["message_id"] != raw["message_id"]
           for h in rag.search_message("Reykjavik flight", [memory.id]))

try:
    memory.update({"memory_type": ["raw"]})
except Exception as exc:
    assert "when memory isn't empty" in str(exc), exc
else:
    raise AssertionError("the memory type changed on a memory holding messages")

rag.delete_memory(memory.id)
rag.delete_memory(other.id)
assert rag.list_memory()["total_count"] == 0
try:
    rag.delete_memory(memory.id)
except Exception as exc:
    assert f"Memory '{memory.id}' not found." in str(exc)
else:
    raise AssertionError("deleted twice")
print("sdk 0.27.3 memory round trip: ok")
"""


@pytest.fixture
def client() -> SdkClient:
    try:
        return sdk27_client()
    except SdkUnavailable as exc:
        pytest.skip(str(exc))


def test_sdk_0273_memory_round_trip(
    live_server_url: str, client: SdkClient, llm_server: LLMServer, tmp_path: Path
) -> None:
    llm_server.register(is_memory_prompt, answer_memory)
    ModelProvider.objects.create(
        factory="TestLLM", base_url=llm_server.base_url, chat_models="tiny"
    )
    user = User.objects.create_user("sdk27-memory", password="sdk-password-1")
    key = api_key_create(user=user, generation="v0.27")[1]
    script = tmp_path / "memory_round_trip.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [str(client.python), str(script)],
        env={"URL": live_server_url, "KEY": key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "memory round trip: ok" in done.stdout
    # The extraction ran in the worker, against the chat model, once.
    assert len([p for p in llm_server.prompts() if "**CONVERSATION:**" in p]) == 1
    assert not MemoryMessage.objects.exists()
