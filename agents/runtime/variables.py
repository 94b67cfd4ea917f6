"""Resolving references and filling templates, streaming lazy LLM outputs where they appear."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from agents.runtime.refs import TEMPLATE_REF, Ref, parse_ref
from agents.runtime.state import LazyText, RunState

# The output a component stands for when referenced without `@output` (v0.17) or as an input.
MAIN_OUTPUTS = ("content", "formalized_content", "category_name")


def resolve(state: RunState, ref: Ref) -> Any:
    """The value of a parsed reference; missing outputs and globals are ""."""
    kind, name, output = ref
    if kind in ("sys", "env"):
        return state.globals.get(name, "")
    outputs = state.outputs.get(name, {})
    if output in outputs:
        return outputs[output]
    # `{Comp@out.key}` reaches into an output that is an object.
    head, _, rest = output.partition(".")
    value: Any = outputs.get(head, "")
    for key in rest.split(".") if rest else []:
        value = value.get(key, "") if isinstance(value, dict) else ""
    return value


def main_output(state: RunState, cpn_id: str) -> Any:
    """A component's principal output ("" when it has produced none)."""
    outputs = state.outputs.get(cpn_id, {})
    for name in MAIN_OUTPUTS:
        if name in outputs:
            return outputs[name]
    return next(iter(outputs.values()), "")


def format_value(value: Any) -> str:
    """How a non-lazy value reads inside a prompt or reply."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)


async def text_of(value: Any) -> str:
    """A value as text, waiting for a lazy output to finish."""
    if isinstance(value, LazyText):
        return await value.text()
    return format_value(value)


def _lookup(state: RunState, name: str, local: Mapping[str, Any]) -> tuple[bool, Any]:
    ref = parse_ref(name)
    if ref is not None:
        return True, resolve(state, ref)
    if name in local:
        return True, local[name]
    if name in state.outputs:  # v0.17 `{Retrieval:Abc}`
        return True, main_output(state, name)
    return False, None


async def render_stream(
    state: RunState, template: str, local: Mapping[str, Any] | None = None
) -> AsyncIterator[str]:
    """Yield `template`'s text with references filled in, lazy outputs delta by delta."""
    position = 0
    for match in TEMPLATE_REF.finditer(template):
        found, value = _lookup(state, match.group(1), local or {})
        if not found:
            continue  # plain braces: stays in the literal text
        if match.start() > position:
            yield template[position : match.start()]
        position = match.end()
        if isinstance(value, LazyText):
            async for delta in value.deltas():
                yield delta
        elif text := format_value(value):
            yield text
    if position < len(template):
        yield template[position:]


async def render(state: RunState, template: str, local: Mapping[str, Any] | None = None) -> str:
    """`template` with references filled in."""
    return "".join([piece async for piece in render_stream(state, template, local)])


async def resolve_param(state: RunState, value: Any) -> Any:
    """A param that may be a bare reference (`"sys.query"`, `"begin@kb"`) or a template."""
    if not isinstance(value, str):
        return value
    ref = parse_ref(value.strip())
    if ref is not None:
        resolved = resolve(state, ref)
        return await resolved.text() if isinstance(resolved, LazyText) else resolved
    return await render(state, value)
