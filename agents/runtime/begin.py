"""Begin: publishes the run's inputs as `{begin@<name>}`."""

from __future__ import annotations

from typing import Any

from agents.runtime.state import ComponentError, RunState, Step


def _unwrap(value: Any) -> Any:
    """Completions send `{"name": value}` or `{"name": {"type": ..., "value": value}}`."""
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


async def run_begin(state: RunState, step: Step) -> None:
    """Output each declared input (given value, else its default), then any extra given ones."""
    given = state.inputs
    for name, definition in state.begin_inputs.items():
        if name in given and not _missing(_unwrap(given[name])):
            value = _unwrap(given[name])
        else:
            value = definition.get("value", definition.get("default"))
        if _missing(value) and not definition.get("optional", False):
            raise ComponentError(step.id, f"The input '{name}' is required.")
        state.set_output(step.id, name, value)
    for name, value in given.items():
        if name not in state.begin_inputs:
            state.set_output(step.id, name, _unwrap(value))
