"""Switch: routes to the first condition that holds, else to `end_cpn_ids`."""

from __future__ import annotations

from typing import Any

from agents.runtime.dsl import id_list
from agents.runtime.state import RunState, Step
from agents.runtime.variables import render, resolve_param


def _compare(left: Any, right: Any) -> float:
    """Numeric comparison when both sides are numbers, else text comparison (as RAGFlow)."""
    try:
        return float(left) - float(right)
    except (TypeError, ValueError):
        a, b = str(left), str(right)
        return (a > b) - (a < b)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict | tuple) and not value)


def check(value: Any, operator: str, expected: Any) -> bool:
    """Whether `value <operator> expected` holds; text compares case-insensitively."""
    if isinstance(value, str):
        value = value.lower()
    if isinstance(expected, str):
        expected = expected.lower()
    op = operator.strip().lower()
    if op == "empty":
        return _is_empty(value)
    if op == "not empty":
        return not _is_empty(value)
    if op in ("contains", "not contains"):
        haystack = value if isinstance(value, list) else str(value or "")
        found = expected in haystack if isinstance(haystack, list) else str(expected) in haystack
        return found if op == "contains" else not found
    if op in ("start with", "starts with"):
        return str(value or "").startswith(str(expected))
    if op in ("end with", "ends with"):
        return str(value or "").endswith(str(expected))
    if op in ("=", "==", "≠", "!="):
        equal = value == expected or (
            not isinstance(value, list) and _compare(value, expected) == 0
        )
        return equal if op in ("=", "==") else not equal
    comparisons = {
        ">": lambda d: d > 0,
        "<": lambda d: d < 0,
        "≥": lambda d: d >= 0,
        ">=": lambda d: d >= 0,
        "≤": lambda d: d <= 0,
        "<=": lambda d: d <= 0,
    }
    if op in comparisons:
        return bool(comparisons[op](_compare(value, expected)))
    raise ValueError(f"unknown operator '{operator}'")


async def _holds(state: RunState, condition: dict[str, Any]) -> bool:
    results = []
    for item in condition.get("items") or []:
        value = await resolve_param(state, item.get("cpn_id", ""))
        expected = item.get("value", "")
        if isinstance(expected, str):
            expected = await render(state, expected)
        results.append(check(value, str(item.get("operator") or "="), expected))
    if not results:
        return False
    if str(condition.get("logical_operator") or "and").lower() == "or":
        return any(results)
    return all(results)


async def run_switch(state: RunState, step: Step) -> None:
    """Choose the branch: the first condition that holds, else the `end_cpn_ids` branch."""
    for condition in step.params.get("conditions") or []:
        if await _holds(state, condition):
            step.next_ids = id_list(condition.get("to"))
            break
    else:
        step.next_ids = id_list(step.params.get("end_cpn_ids"))
    state.set_output(step.id, "_next", step.next_ids)
