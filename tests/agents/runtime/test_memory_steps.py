"""Memories in the agent runtime (RAGFlow v0.27 DSL names): a Retrieval component with
`memory_ids` reads memories, a Message component with `memory_ids` saves the turn."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync

from agents.models import Agent, MemoryMessage
from agents.services.agents import agent_create
from agents.services.memories import NewMessage, memory_create, message_add
from agents.services.runs import run_events, run_prepare
from ragsite.accounts.models import User
from tests.agents.runtime.helpers import component, reply_text, run

pytestmark = pytest.mark.django_db

MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
EXTRACTIVE = "ragsite-extractive@Builtin"


def memory_dsl(read_ids: list[str], save_ids: list[str], **retrieval: Any) -> dict[str, Any]:
    return {
        "components": {
            "begin": component("Begin", {"prologue": "Hi."}, ["Retrieval:Mem"]),
            "Retrieval:Mem": component(
                "Retrieval",
                {
                    "retrieval_from": "memory",
                    "memory_ids": read_ids,
                    "query": "sys.query",
                    "top_n": 1,
                    "empty_response": "nothing remembered",
                    **retrieval,
                },
                ["Message:Reply"],
                ["begin"],
            ),
            "Message:Reply": component(
                "Message",
                {
                    "content": ["Remembered: {Retrieval:Mem@formalized_content}"],
                    "memory_ids": save_ids,
                    "user_id": "{sys.user_id}",
                },
                [],
                ["Retrieval:Mem"],
            ),
        },
    }


@pytest.fixture
def memory(tenant: User, django_capture_on_commit_callbacks):
    memory = memory_create(
        tenant=tenant, name="facts", memory_type=["raw"], embd_id=MINILM, llm_id=EXTRACTIVE
    )
    with django_capture_on_commit_callbacks(execute=True):
        for said in ("My sister Ana lives in Porto.", "The garage door code is 5521."):
            message_add(
                user=tenant,
                memory_ids=[memory.pk],
                message=NewMessage("u1", "a", "s", said, "Noted."),
            )
    return memory


def test_retrieval_reads_and_message_saves_the_turn(
    tenant: User, memory, django_capture_on_commit_callbacks
) -> None:
    dsl = memory_dsl([memory.pk], [memory.pk])
    with django_capture_on_commit_callbacks(execute=True):
        events = run(dsl, tenant, "Where does my sister live?", user_id="visitor-9")
    assert [e.kind for e in events if e.kind == "error"] == []
    text = reply_text(events)
    assert text.startswith("Remembered: User Input: My sister Ana lives in Porto."), text
    assert "5521" not in text  # top_n 1: the best message only
    saved = MemoryMessage.objects.order_by("-message_id").first()
    assert saved.content == f"User Input: Where does my sister live?\nAgent Response: {text}"
    assert saved.user_id == "visitor-9" and saved.message_type == "raw"
    assert MemoryMessage.objects.count() == 3


def test_user_id_filters_the_memories_read(tenant: User, memory) -> None:
    events = run(memory_dsl([memory.pk], [], user_id="someone-else"), tenant, "Where is Ana?")
    assert reply_text(events) == "Remembered: nothing remembered"


def test_a_run_saves_its_agent_and_session_ids(
    tenant: User, memory, django_capture_on_commit_callbacks
) -> None:
    agent = agent_create(
        tenant=tenant, title="rememberer", dsl=memory_dsl([memory.pk], [memory.pk])
    )
    prepared = run_prepare(tenant=tenant, agent_id=agent.pk, question="garage code?")

    async def drain() -> list[Any]:
        return [event async for event in run_events(prepared)]

    with django_capture_on_commit_callbacks(execute=True):
        async_to_sync(drain)()
    saved = MemoryMessage.objects.order_by("-message_id").first()
    assert "5521" in saved.content and saved.content.startswith("User Input: garage code?")
    assert saved.agent_id == agent.pk and saved.session_id == prepared.session.pk
    assert Agent.objects.count() == 1


def test_another_tenants_memory_is_neither_read_nor_written(
    tenant: User, other_tenant: User, memory, django_capture_on_commit_callbacks
) -> None:
    events = run(memory_dsl([memory.pk], []), other_tenant, "Where does my sister live?")
    (error,) = [e for e in events if e.kind == "error"]
    assert "No memory is selected." in error.error
    assert "Porto" not in reply_text(events)
    own = memory_create(
        tenant=other_tenant, name="mine", memory_type=["raw"], embd_id=MINILM, llm_id=EXTRACTIVE
    )
    with django_capture_on_commit_callbacks(execute=True):
        events = run(memory_dsl([own.pk], [memory.pk]), other_tenant, "hello")
    assert reply_text(events) == "Remembered: nothing remembered"
    assert MemoryMessage.objects.filter(memory=memory).count() == 2
