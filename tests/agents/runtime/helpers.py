"""Runtime test helpers: DSL builders and running a DSL to a list of events."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync

from agents.runtime import RunEvent, run_agent
from ragsite.accounts.models import User

FACTS = [
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Lighthouse keepers sounded the fog signal every morning at dawn.",
    "Tax forms for the fiscal year are due at the end of April.",
]


def component(
    name: str, params: dict[str, Any] | None = None, down: list[str] | None = None, up=None
) -> dict[str, Any]:
    return {
        "obj": {"component_name": name, "params": params or {}},
        "downstream": down or [],
        "upstream": up or [],
    }


def dsl_of(components: dict[str, Any]) -> dict[str, Any]:
    return {"components": components}


def seed_dsl(dataset_id: str) -> dict[str, Any]:
    """The seed DSL from the runtime brief: Begin → Retrieval → LLM → Message."""
    return {
        "components": {
            "begin": component(
                "Begin", {"prologue": "Hi, ask me about walruses."}, ["Retrieval:Facts"]
            ),
            "Retrieval:Facts": component(
                "Retrieval",
                {"kb_ids": [dataset_id], "query": "sys.query", "top_n": 4},
                ["LLM:Answer"],
                ["begin"],
            ),
            "LLM:Answer": component(
                "LLM",
                {
                    "sys_prompt": "Answer from this knowledge: {Retrieval:Facts@formalized_content}",
                    "prompts": [{"role": "user", "content": "{sys.query}"}],
                },
                ["Message:Reply"],
                ["Retrieval:Facts"],
            ),
            "Message:Reply": component(
                "Message", {"content": ["{LLM:Answer@content}"]}, [], ["LLM:Answer"]
            ),
        },
        "history": [],
        "path": [],
        "retrieval": [],
        "globals": {
            "sys.query": "",
            "sys.user_id": "",
            "sys.conversation_turns": 0,
            "sys.files": [],
        },
    }


def run(
    dsl: dict[str, Any],
    tenant: User,
    question: str = "",
    *,
    history: list[tuple[str, str]] | None = None,
    inputs: dict[str, Any] | None = None,
    user_id: str = "",
) -> list[RunEvent]:
    """All events of one run, driven from sync test code on the test's DB connection."""

    async def gather() -> list[RunEvent]:
        return [
            event
            async for event in run_agent(
                dsl,
                tenant=tenant,
                question=question,
                history=history or [],
                inputs=inputs or {},
                user_id=user_id,
            )
        ]

    return async_to_sync(gather)()


def reply_text(events: list[RunEvent]) -> str:
    return "".join(e.content for e in events if e.kind == "message")
