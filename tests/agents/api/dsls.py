"""DSLs and stream helpers shared by the agent API tests."""

from __future__ import annotations

import copy
import json
from typing import Any

from asgiref.sync import async_to_sync

# Begin → Message echoing the question: runs without datasets or models.
ECHO_DSL: dict[str, Any] = {
    "components": {
        "begin": {
            "obj": {"component_name": "Begin", "params": {"prologue": "Hi, say something."}},
            "downstream": ["Message:Echo"],
            "upstream": [],
        },
        "Message:Echo": {
            "obj": {"component_name": "Message", "params": {"content": ["You said: {sys.query}"]}},
            "downstream": [],
            "upstream": ["begin"],
        },
    }
}

# Begin → Retrieval → LLM → Message: the guide's walrus agent (its dataset id filled in).
WALRUS_DSL: dict[str, Any] = {
    "components": {
        "begin": {
            "obj": {
                "component_name": "Begin",
                "params": {"prologue": "Hi, ask me about walruses."},
            },
            "downstream": ["Retrieval:Facts"],
            "upstream": [],
        },
        "Retrieval:Facts": {
            "obj": {
                "component_name": "Retrieval",
                "params": {"kb_ids": [], "query": "sys.query", "top_n": 4},
            },
            "downstream": ["LLM:Answer"],
            "upstream": ["begin"],
        },
        "LLM:Answer": {
            "obj": {
                "component_name": "LLM",
                "params": {
                    "sys_prompt": "Answer from this knowledge: {Retrieval:Facts@formalized_content}",
                    "prompts": [{"role": "user", "content": "{sys.query}"}],
                },
            },
            "downstream": ["Message:Reply"],
            "upstream": ["Retrieval:Facts"],
        },
        "Message:Reply": {
            "obj": {"component_name": "Message", "params": {"content": ["{LLM:Answer@content}"]}},
            "downstream": [],
            "upstream": ["LLM:Answer"],
        },
    }
}


def echo_dsl(prologue: str = "Hi, say something.") -> dict[str, Any]:
    dsl = copy.deepcopy(ECHO_DSL)
    dsl["components"]["begin"]["obj"]["params"]["prologue"] = prologue
    return dsl


def walrus_dsl(dataset_id: str) -> dict[str, Any]:
    dsl = copy.deepcopy(WALRUS_DSL)
    dsl["components"]["Retrieval:Facts"]["obj"]["params"]["kb_ids"] = [dataset_id]
    return dsl


def streamed(response: Any) -> bytes:
    async def gather() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    return async_to_sync(gather)()


def sse_events(response: Any) -> tuple[list[dict[str, Any]], str]:
    """The JSON events of an SSE reply (`data:` lines) and its last line (`data:[DONE]`)."""
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    blocks = [b for b in streamed(response).decode().split("\n\n") if b]
    return [json.loads(b[len("data:") :]) for b in blocks[:-1]], blocks[-1]
