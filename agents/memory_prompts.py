"""The extraction prompts of a memory (RAGFlow v0.27 `memory/utils/prompt_util.py`), and the
reading of a model's answer. Pure: no Django, no I/O.

A memory's default system prompt is assembled from its types; RAGFlow rebuilds it when the types
change while the prompt is still the default, so `is_default_prompt` tells the two apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

EXTRACTED_TYPES = ("semantic", "episodic", "procedural")

SYSTEM_BASE_TEMPLATE = """**Memory Extraction Specialist**
You are an expert at analyzing conversations to extract structured memory.

{type_specific_instructions}


**OUTPUT REQUIREMENTS:**
1. Output MUST be valid JSON
2. Follow the specified output format exactly
3. Each extracted item MUST have: content, valid_at, invalid_at
4. Timestamps in {timestamp_format} format
5. Only extract memory types specified above
6. Maximum {max_items} items per type
"""

TYPE_INSTRUCTIONS = {
    "semantic": """
        **EXTRACT SEMANTIC KNOWLEDGE:**
        - Universal facts, definitions, concepts, relationships
        - Time-invariant, generally true information
        - Examples: "The capital of France is Paris", "Water boils at 100°C"

        **Timestamp Rules for Semantic Knowledge:**
        - valid_at: When the fact became true (e.g., law enactment, discovery)
        - invalid_at: When it becomes false (e.g., repeal, disproven) or empty if still true
        - Default: valid_at = conversation time, invalid_at = "" for timeless facts
        """,
    "episodic": """
        **EXTRACT EPISODIC KNOWLEDGE:**
        - Specific experiences, events, personal stories
        - Time-bound, person-specific, contextual
        - Examples: "Yesterday I fixed the bug", "User reported issue last week"

        **Timestamp Rules for Episodic Knowledge:**
        - valid_at: Event start/occurrence time
        - invalid_at: Event end time or empty if instantaneous
        - Extract explicit times: "at 3 PM", "last Monday", "from X to Y"
        """,
    "procedural": """
        **EXTRACT PROCEDURAL KNOWLEDGE:**
        - Processes, methods, step-by-step instructions
        - Goal-oriented, actionable, often includes conditions
        - Examples: "To reset password, click...", "Debugging steps: 1)..."

        **Timestamp Rules for Procedural Knowledge:**
        - valid_at: When procedure becomes valid/effective
        - invalid_at: When it expires/becomes obsolete or empty if current
        - For version-specific: use release dates
        - For best practices: invalid_at = ""
        """,
}

OUTPUT_TEMPLATES = {
    "semantic": """
        "semantic": [
            {
                "content": "Clear factual statement",
                "valid_at": "timestamp or empty",
                "invalid_at": "timestamp or empty"
            }
        ]
        """,
    "episodic": """
        "episodic": [
            {
                "content": "Narrative event description",
                "valid_at": "event start timestamp",
                "invalid_at": "event end timestamp or empty"
            }
        ]
        """,
    "procedural": """
        "procedural": [
            {
                "content": "Actionable instructions",
                "valid_at": "procedure effective timestamp",
                "invalid_at": "procedure expiration timestamp or empty"
            }
        ]
        """,
}

EXAMPLES = {
    "semantic": """
            **Semantic Example:**
            Input: "Python lists are mutable and support various operations."
            Output: {"semantic": [{"content": "Python lists are mutable data structures", "valid_at": "2024-01-15T10:00:00", "invalid_at": ""}]}
            """,  # noqa: E501
    "episodic": """
            **Episodic Example:**
            Input: "I deployed the new feature yesterday afternoon."
            Output: {"episodic": [{"content": "User deployed new feature", "valid_at": "2024-01-14T14:00:00", "invalid_at": "2024-01-14T18:00:00"}]}
            """,  # noqa: E501
    "procedural": """
            **Procedural Example:**
            Input: "To debug API errors: 1) Check logs 2) Verify endpoints 3) Test connectivity."
            Output: {"procedural": [{"content": "API error debugging: 1. Check logs 2. Verify endpoints 3. Test connectivity", "valid_at": "2024-01-15T10:00:00", "invalid_at": ""}]}
            """,  # noqa: E501
}

BASE_USER_PROMPT = """
**CONVERSATION:**
{conversation}

**CONVERSATION TIME:** {conversation_time}
**CURRENT TIME:** {current_time}
"""


def extracted_types(memory_types: list[str]) -> list[str]:
    """The types a model extracts (all but raw), in a fixed order."""
    return [t for t in EXTRACTED_TYPES if t in memory_types]


def system_prompt(memory_types: list[str]) -> str:
    types = extracted_types(memory_types)
    prompt = SYSTEM_BASE_TEMPLATE.format(
        type_specific_instructions="\n".join(TYPE_INSTRUCTIONS[t] for t in types),
        timestamp_format="ISO 8601",
        max_items=5,
    )
    output_format = ",\n".join(OUTPUT_TEMPLATES[t] for t in types)
    prompt += f"\n**REQUIRED OUTPUT FORMAT (JSON):**\n```json\n{{\n{output_format}\n}}\n```\n"
    examples = "\n".join(EXAMPLES[t] for t in types)
    if examples:
        prompt += f"\n**EXAMPLES:**\n{examples}\n"
    return prompt


def is_default_prompt(prompt: str, memory_types: list[str]) -> bool:
    return prompt == system_prompt(memory_types)


def conversation(user_input: str, agent_response: str) -> str:
    """A raw message's content."""
    return f"User Input: {user_input}\nAgent Response: {agent_response}"


def user_prompt(conversation_text: str, moment: str) -> str:
    return BASE_USER_PROMPT.format(
        conversation=conversation_text, conversation_time=moment, current_time=moment
    )


def parse_answer(text: str) -> dict[str, Any]:
    """The JSON object of a model's answer (a ```json fence allowed); {} when there is none."""
    clean = text.strip()
    if clean.startswith("```json"):
        clean = clean[7:]
    elif clean.startswith("```"):
        clean = clean[3:]
    if clean.endswith("```"):
        clean = clean[:-3]
    try:
        data = json.loads(clean.strip())
    except ValueError:
        start, end = clean.find("{"), clean.rfind("}")
        try:
            data = json.loads(clean[start : end + 1]) if 0 <= start < end else {}
        except ValueError:
            return {}
    return data if isinstance(data, dict) else {}


def parse_moment(value: Any, default: datetime) -> datetime | None:
    """An ISO 8601 timestamp of the model's answer; `default` when absent, None when empty."""
    if value is None:
        return default
    if not isinstance(value, str):
        return default
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def extracted_items(
    answer: dict[str, Any], memory_types: list[str], now: datetime
) -> list[dict[str, Any]]:
    """`[{message_type, content, valid_at, invalid_at}]` for the types the memory enables."""
    items: list[dict[str, Any]] = []
    for kind in extracted_types(memory_types):
        for entry in answer.get(kind) or []:
            if not isinstance(entry, dict):
                continue
            content = entry.get("content")
            if not isinstance(content, str) or not content.strip():
                continue
            items.append(
                {
                    "message_type": kind,
                    "content": content.strip(),
                    "valid_at": parse_moment(entry.get("valid_at"), now) or now,
                    "invalid_at": parse_moment(entry.get("invalid_at"), now)
                    if entry.get("invalid_at")
                    else None,
                }
            )
    return items
