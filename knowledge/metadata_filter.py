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


def _condition_holds(meta: dict[str, Any], condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    return matches(
        meta or {},
        str(condition.get("name", "")),
        str(condition.get("comparison_operator", "=")),
        condition.get("value"),
    )


def matching_documents(
    documents: Iterable[tuple[str, dict[str, Any]]],
    conditions: list[dict[str, Any]],
    *,
    logic: str = "and",
) -> list[str]:
    """Ids of the documents whose metadata meets all conditions (`logic` "and") or any ("or")."""
    combine = any if logic == "or" else all
    return [
        doc_id
        for doc_id, meta in documents
        if combine(_condition_holds(meta or {}, c) for c in conditions)
    ]


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, list):
        return any(_same(item, wanted) for item in value)
    return str(value).strip().lower() == str(wanted).strip().lower()


def metadata_matches(meta: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """RAGFlow v0.27's `metadata` list filter: `{key: value or [values]}`; the values of one
    key are alternatives, the keys must all match; `empty_metadata: true` asks for documents
    without metadata."""
    meta = meta or {}
    for key, expected in wanted.items():
        if key == "empty_metadata":
            if expected in (True, "true", "True", 1) and meta:
                return False
            continue
        if key not in meta:
            return False
        options = expected if isinstance(expected, list) else [expected]
        if not any(_same(meta[key], option) for option in options):
            return False
    return True
