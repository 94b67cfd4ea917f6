"""How tests/llm_server.py answers a memory's extraction prompt (agents/memory_prompts.py): from
the conversation it is given, never from a script of expected answers."""

from __future__ import annotations

import json
from typing import Any


def is_memory_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "**CONVERSATION:**" in prompt


def answer_memory(prompt: str, messages: list[dict[str, Any]]) -> str:
    """Extract from the conversation it is given: the user's sentence as a semantic fact, and
    as an episode; a procedure only when the user input lists steps."""
    conversation = prompt.split("**CONVERSATION:**", 1)[1].split("**CONVERSATION TIME:**")[0]
    said = conversation.split("User Input:", 1)[1].split("Agent Response:")[0].strip()
    system = messages[0]["content"]
    out: dict[str, list[dict[str, str]]] = {}
    if "SEMANTIC" in system:
        out["semantic"] = [{"content": f"Fact: {said}", "valid_at": "", "invalid_at": ""}]
    if "EPISODIC" in system:
        out["episodic"] = [
            {"content": f"User said: {said}", "valid_at": "2026-12-01T10:00:00", "invalid_at": ""}
        ]
    if "PROCEDURAL" in system and "1)" in said:
        out["procedural"] = [{"content": f"Steps: {said}", "valid_at": "", "invalid_at": ""}]
    return "```json\n" + json.dumps(out) + "\n```"
