"""validate_dsl: each rule fails with a message naming the component; defaults are filled."""

from __future__ import annotations

from typing import Any

import pytest

from agents.runtime import DslError, begin_inputs, prologue_of, validate_dsl
from tests.agents.runtime.helpers import component, dsl_of, seed_dsl


def error_of(dsl: Any) -> str:
    with pytest.raises(DslError) as info:
        validate_dsl(dsl)
    return info.value.message


def minimal(**more: dict[str, Any]) -> dict[str, Any]:
    return dsl_of({"begin": component("Begin", {}, ["Message:Hi"]), **more})


def test_validate_dsl_fills_run_keys_and_globals() -> None:
    dsl = minimal(**{"Message:Hi": component("Message", {"content": ["hi"]}, [], ["begin"])})
    dsl["globals"] = {"env.team": "ops"}
    normalised = validate_dsl(dsl)
    assert (
        normalised["history"] == [] and normalised["path"] == [] and normalised["retrieval"] == []
    )
    assert normalised["globals"] == {
        "sys.query": "",
        "sys.user_id": "",
        "sys.conversation_turns": 0,
        "sys.files": [],
        "env.team": "ops",
    }
    assert "history" not in dsl  # the caller's object is left alone


def test_validate_dsl_accepts_the_seed_dsl_unchanged() -> None:
    dsl = seed_dsl("0" * 32)
    assert validate_dsl(dsl) == dsl


def test_validate_dsl_accepts_both_generations_and_any_case() -> None:
    dsl = dsl_of(
        {
            "begin": component("begin", {}, ["Retrieval:R"]),
            "Retrieval:R": component("Retrieval", {"kb_ids": ["x"]}, ["Generate:G"]),
            "Generate:G": component("Generate", {"prompt": "{input}"}, ["Answer:A"]),
            "Answer:A": component("answer", {}, []),
        }
    )
    assert validate_dsl(dsl)["components"]["Answer:A"]["obj"]["component_name"] == "answer"


@pytest.mark.parametrize(
    ("dsl", "message"),
    [
        ([], "The DSL must be a JSON object."),
        ({"title": "x"}, "The DSL has no `components` object."),
        ({"components": {"Message:A": component("Message")}}, "The DSL has no component 'begin'."),
        (
            {"components": {"begin": component("Message")}},
            "Component 'begin' must be a Begin component.",
        ),
        (
            {"components": {"begin": {"obj": {"params": {}}}}},
            "Component 'begin' has no component_name.",
        ),
        (
            {"components": {"begin": component("Begin"), "Iter:X": component("Iteration")}},
            "Component 'Iter:X' has the unsupported type 'Iteration'.",
        ),
        (
            {"components": {"begin": component("Begin")}, "history": "nope"},
            "`history` must be a list.",
        ),
    ],
)
def test_validate_dsl_rejects_malformed_documents(dsl: Any, message: str) -> None:
    assert error_of(dsl) == message


def test_validate_dsl_rejects_unknown_downstream_and_upstream() -> None:
    assert error_of(dsl_of({"begin": component("Begin", {}, ["LLM:Gone"])})) == (
        "Component 'begin' refers to unknown component 'LLM:Gone'."
    )
    dsl = minimal(**{"Message:Hi": component("Message", {"content": "hi"}, [], ["Begin:Old"])})
    assert error_of(dsl) == "Component 'Message:Hi' refers to unknown component 'Begin:Old'."


def test_validate_dsl_rejects_unknown_variable_references() -> None:
    dsl = seed_dsl("0" * 32)
    dsl["components"]["LLM:Answer"]["obj"]["params"]["sys_prompt"] = "{Retrieval:Nope@content}"
    assert error_of(dsl) == "Component 'LLM:Answer' refers to unknown component 'Retrieval:Nope'."


def test_validate_dsl_rejects_unknown_bare_references() -> None:
    dsl = seed_dsl("0" * 32)
    dsl["components"]["Retrieval:Facts"]["obj"]["params"]["kb_ids"] = ["Begin:Kb@kb"]
    assert error_of(dsl) == "Component 'Retrieval:Facts' refers to unknown component 'Begin:Kb'."


def test_validate_dsl_rejects_unknown_categorize_targets() -> None:
    categories = {"a": {"description": "x", "to": ["Message:A"]}, "b": {"to": "Message:B"}}
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Categorize:C"]),
            "Categorize:C": component("Categorize", {"category_description": categories}),
            "Message:A": component("Message", {"content": "a"}),
        }
    )
    assert error_of(dsl) == "Component 'Categorize:C' refers to unknown component 'Message:B'."


def test_validate_dsl_rejects_categorize_without_categories() -> None:
    dsl = dsl_of(
        {"begin": component("Begin", {}, ["Categorize:C"]), "Categorize:C": component("Categorize")}
    )
    assert error_of(dsl) == "Component 'Categorize:C' has no categories."


def test_validate_dsl_rejects_unknown_switch_targets() -> None:
    switch = {
        "conditions": [{"items": [], "to": ["Message:A"]}],
        "end_cpn_ids": ["Message:Else"],
    }
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Switch:S"]),
            "Switch:S": component("Switch", switch),
            "Message:A": component("Message", {"content": "a"}),
        }
    )
    assert error_of(dsl) == "Component 'Switch:S' refers to unknown component 'Message:Else'."


def test_validate_dsl_rejects_unknown_switch_item_sources() -> None:
    switch = {"conditions": [{"items": [{"cpn_id": "LLM:X@content", "operator": "empty"}]}]}
    dsl = dsl_of(
        {"begin": component("Begin", {}, ["Switch:S"]), "Switch:S": component("Switch", switch)}
    )
    assert error_of(dsl) == "Component 'Switch:S' refers to unknown component 'LLM:X'."


def test_validate_dsl_rejects_cycles_naming_a_component_on_it() -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["LLM:A"]),
            "LLM:A": component("LLM", {}, ["LLM:B"]),
            "LLM:B": component("LLM", {}, ["LLM:A"]),
        }
    )
    message = error_of(dsl)
    assert message in (
        "Component 'LLM:A' is part of a cycle.",
        "Component 'LLM:B' is part of a cycle.",
    )


def test_validate_dsl_rejects_cycles_through_routing() -> None:
    switch = {"conditions": [], "end_cpn_ids": ["Switch:S"]}
    dsl = dsl_of(
        {"begin": component("Begin", {}, ["Switch:S"]), "Switch:S": component("Switch", switch)}
    )
    assert error_of(dsl) == "Component 'Switch:S' is part of a cycle."


def test_validate_dsl_rejects_unreachable_components() -> None:
    dsl = minimal(
        **{"Message:Hi": component("Message", {"content": "hi"})},
        **{"Message:Lost": component("Message", {"content": "?"})},
    )
    assert error_of(dsl) == "Component 'Message:Lost' is not reachable from begin."
    dsl["components"]["LLM:Alone"] = component("LLM")
    assert error_of(dsl) == "Components 'Message:Lost', 'LLM:Alone' are not reachable from begin."


def test_prologue_of_reads_begin_then_a_v017_opener() -> None:
    assert prologue_of(seed_dsl("x")) == "Hi, ask me about walruses."
    old = minimal()
    old["messages"] = [{"role": "assistant", "content": "Hello from v0.17"}]
    assert prologue_of(old) == "Hello from v0.17"
    assert prologue_of({"components": {}}) == ""


def test_begin_inputs_reads_both_generations() -> None:
    inputs = {"kb": {"name": "kb", "type": "line", "optional": False}}
    assert begin_inputs(dsl_of({"begin": component("Begin", {"inputs": inputs})})) == inputs
    legacy = [{"key": "topic", "name": "Topic", "optional": True, "type": "line"}]
    assert begin_inputs(dsl_of({"begin": component("Begin", {"query": legacy})})) == {
        "topic": legacy[0]
    }
    assert begin_inputs(minimal()) == {}
