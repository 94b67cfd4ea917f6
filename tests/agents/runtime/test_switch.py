"""Switch: every operator, and/or conditions, first match wins, else branch."""

from __future__ import annotations

from typing import Any

import pytest

from agents.runtime.switch import check
from ragsite.accounts.models import User
from tests.agents.runtime.helpers import component, dsl_of, reply_text, run


@pytest.mark.parametrize(
    ("value", "operator", "expected", "result"),
    [
        ("Walrus facts", "contains", "WALRUS", True),
        ("Walrus facts", "contains", "seal", False),
        ("Walrus facts", "not contains", "seal", True),
        (["a", "b"], "contains", "b", True),
        ("Walrus facts", "start with", "walrus", True),
        ("Walrus facts", "start with", "facts", False),
        ("Walrus facts", "end with", "FACTS", True),
        ("", "empty", "", True),
        ([], "empty", "", True),
        ("x", "empty", "", False),
        ("x", "not empty", "", True),
        (None, "not empty", "", False),
        ("Yes", "=", "yes", True),
        ("3", "=", "3.0", True),
        ("yes", "≠", "no", True),
        ("yes", "!=", "yes", False),
        ("10", ">", "9", True),  # numbers compare as numbers, not text
        (2, "<", "10", True),
        ("5", "≥", "5", True),
        ("5", ">=", "6", False),
        ("5", "≤", "5", True),
        ("4", "<=", "3", False),
        ("b", ">", "a", True),  # text compares as text
    ],
)
def test_switch_operators(value: Any, operator: str, expected: Any, result: bool) -> None:
    assert check(value, operator, expected) is result


def test_switch_rejects_unknown_operators() -> None:
    with pytest.raises(ValueError, match="unknown operator 'like'"):
        check("a", "like", "a")


def routing_dsl(conditions: list[dict[str, Any]], end: list[str] | str) -> dict[str, Any]:
    return dsl_of(
        {
            "begin": component(
                "Begin",
                {"inputs": {"lang": {"optional": True}, "n": {"optional": True}}},
                ["Switch:S"],
            ),
            "Switch:S": component(
                "Switch",
                {"conditions": conditions, "end_cpn_ids": end},
                ["Message:A", "Message:B", "Message:Else"],
            ),
            "Message:A": component("Message", {"content": "A"}),
            "Message:B": component("Message", {"content": "B"}),
            "Message:Else": component("Message", {"content": "else"}),
        }
    )


CONDITIONS = [
    {
        "logical_operator": "and",
        "items": [
            {"cpn_id": "begin@lang", "operator": "=", "value": "en"},
            {"cpn_id": "sys.query", "operator": "contains", "value": "walrus"},
        ],
        "to": ["Message:A"],
    },
    {
        "logical_operator": "or",
        "items": [
            {"cpn_id": "begin@n", "operator": ">", "value": "10"},
            {"cpn_id": "{sys.query}", "operator": "start with", "value": "hi"},
        ],
        "to": "Message:B",
    },
]


@pytest.mark.parametrize(
    ("question", "inputs", "reply"),
    [
        ("walrus count?", {"lang": "en", "n": 50}, "A"),  # both match: the first wins
        ("walrus count?", {"lang": "de", "n": 50}, "B"),  # "and" fails, "or" holds
        ("hi there", {"lang": "de", "n": 1}, "B"),
        ("walrus count?", {"lang": "de", "n": 1}, "else"),
    ],
)
def test_switch_routes_to_the_first_matching_condition(
    tenant: User, question: str, inputs: dict[str, Any], reply: str
) -> None:
    events = run(routing_dsl(CONDITIONS, ["Message:Else"]), tenant, question, inputs=inputs)
    assert reply_text(events) == reply
    assert [e.kind for e in events].count("message_end") == 1


def test_switch_without_a_match_or_else_branch_ends_the_run(tenant: User) -> None:
    assert run(routing_dsl(CONDITIONS, []), tenant, "nothing", inputs={"n": 0}) == []


def test_switch_compares_llm_output(tenant: User) -> None:
    dsl = routing_dsl(
        [
            {
                "items": [{"cpn_id": "Message:Q@content", "operator": "contains", "value": "yes"}],
                "to": ["Message:A"],
            }
        ],
        "Message:Else",
    )
    dsl["components"]["begin"]["downstream"] = ["Message:Q"]
    dsl["components"]["Message:Q"] = component("Message", {"content": "{sys.query}"}, ["Switch:S"])
    events = run(dsl, tenant, "Yes please")
    assert reply_text(events) == "Yes pleaseA"
