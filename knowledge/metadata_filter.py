"""RAGFlow's `metadata_condition`: which documents' `meta_fields` satisfy every condition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ALIASES = {"is": "=", "not is": "≠", "!=": "≠", ">=": "≥", "<=": "≤"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def matches(meta: dict[str, Any], name: str, operator: str, expected: Any) -> bool:
    """One condition against one document's metadata."""
    operator = ALIASES.get(operator, operator)
    value = meta.get(name)
    if operator == "empty":
        return value in (None, "", [], {})
    if operator == "not empty":
        return value not in (None, "", [], {})
    if value is None:
        return False
    left, right = _number(value), _number(expected)
    if left is not None and right is not None:
        comparisons = {"=": left == right, "≠": left != right, ">": left > right,
                       "<": left < right, "≥": left >= right, "≤": left <= right}  # fmt: skip
        if operator in comparisons:
            return comparisons[operator]
    text, wanted = str(value).lower(), str(expected).lower()
    checks = {
        "contains": wanted in text,
        "not contains": wanted not in text,
        "start with": text.startswith(wanted),
        "end with": text.endswith(wanted),
        "=": text == wanted,
        "≠": text != wanted,
        ">": text > wanted,
        "<": text < wanted,
        "≥": text >= wanted,
        "≤": text <= wanted,
    }
    return checks.get(operator, False)


def matching_documents(
    documents: Iterable[tuple[str, dict[str, Any]]], conditions: list[dict[str, Any]]
) -> list[str]:
    """Ids of the documents whose metadata meets all conditions (AND)."""
    return [
        doc_id
        for doc_id, meta in documents
        if all(
            matches(
                meta or {},
                str(c.get("name", "")),
                str(c.get("comparison_operator", "=")),
                c.get("value"),
            )
            for c in conditions
        )
    ]
