"""The agent DSL (contract §8.7): component types, the graph's edges, and validation."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from agents.runtime.refs import TEMPLATE_REF, parse_ref

# Both generations' names (v0.22 and v0.17), compared case-insensitively.
COMPONENT_TYPES = {
    name.lower(): name
    for name in (
        "Begin",
        "Retrieval",
        "LLM",
        "Generate",
        "Agent",
        "Message",
        "Answer",
        "Categorize",
        "Switch",
    )
}
DEFAULT_GLOBALS: dict[str, Any] = {
    "sys.query": "",
    "sys.user_id": "",
    "sys.conversation_turns": 0,
    "sys.files": [],
}


class DslError(Exception):
    """The DSL cannot run; `message` says why and names the component at fault."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def component_type(component: dict[str, Any]) -> str:
    """The canonical type name of a component entry ("" when unsupported)."""
    name = component.get("obj", {}).get("component_name")
    return COMPONENT_TYPES.get(name.lower(), "") if isinstance(name, str) else ""


def id_list(value: Any) -> list[str]:
    """A routing target as a list of ids: RAGFlow writes either a list or a single string."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def routing_targets(component: dict[str, Any]) -> list[str]:
    """Every id a Categorize or Switch may route to (empty for other types)."""
    params = component.get("obj", {}).get("params", {})
    kind = component_type(component)
    targets: list[str] = []
    if kind == "Categorize":
        for category in (params.get("category_description") or {}).values():
            if isinstance(category, dict):
                targets += id_list(category.get("to"))
    elif kind == "Switch":
        for condition in params.get("conditions") or []:
            if isinstance(condition, dict):
                targets += id_list(condition.get("to"))
        targets += id_list(params.get("end_cpn_ids"))
    return targets


def successors(component: dict[str, Any]) -> list[str]:
    """Downstream ids plus routing targets, without duplicates, in order."""
    return list(dict.fromkeys([*component.get("downstream", []), *routing_targets(component)]))


def prologue_of(dsl: dict[str, Any]) -> str:
    """Begin's opener shown when a session starts, or ""."""
    begin = (dsl.get("components") or {}).get("begin") or {}
    params = (begin.get("obj") or {}).get("params") or {}
    prologue = params.get("prologue")
    if isinstance(prologue, str):
        return prologue
    # v0.17 DSLs keep the opener as the only assistant message.
    messages = dsl.get("messages")
    only = messages[0] if isinstance(messages, list) and len(messages) == 1 else None
    if isinstance(only, dict) and only.get("role") == "assistant":
        content = only.get("content")
        return content if isinstance(content, str) else ""
    return ""


def begin_inputs(dsl: dict[str, Any]) -> dict[str, Any]:
    """Begin's input definitions `{name: {type, optional, ...}}` ({} when it declares none)."""
    begin = (dsl.get("components") or {}).get("begin") or {}
    params = (begin.get("obj") or {}).get("params") or {}
    inputs = params.get("inputs")
    if isinstance(inputs, dict):
        return {str(k): v if isinstance(v, dict) else {"value": v} for k, v in inputs.items()}
    # v0.17 Begin lists its inputs under `query`, each with a `key`.
    legacy = params.get("query")
    if isinstance(legacy, list):
        return {str(i["key"]): i for i in legacy if isinstance(i, dict) and i.get("key")}
    return {}


def validate_dsl(dsl: object) -> dict[str, Any]:
    """The DSL with missing run keys filled in; DslError when it cannot run."""
    if not isinstance(dsl, dict):
        raise DslError("The DSL must be a JSON object.")
    dsl = copy.deepcopy(dsl)
    components = dsl.get("components")
    if not isinstance(components, dict) or not components:
        raise DslError("The DSL has no `components` object.")
    for key in ("history", "path", "retrieval"):
        if dsl.get(key) is None:
            dsl[key] = []
        elif not isinstance(dsl[key], list):
            raise DslError(f"`{key}` must be a list.")
    if dsl.get("globals") is None:
        dsl["globals"] = {}
    if not isinstance(dsl["globals"], dict):
        raise DslError("`globals` must be an object.")
    dsl["globals"] = {**copy.deepcopy(DEFAULT_GLOBALS), **dsl["globals"]}

    for cpn_id, component in components.items():
        _check_shape(cpn_id, component)
    if "begin" not in components:
        raise DslError("The DSL has no component 'begin'.")
    if component_type(components["begin"]) != "Begin":
        raise DslError("Component 'begin' must be a Begin component.")
    for cpn_id, component in components.items():
        _check_references(cpn_id, component, components)
    _check_acyclic(components)
    _check_reachable(components)
    return dsl


def _check_shape(cpn_id: str, component: Any) -> None:
    if not isinstance(component, dict) or not isinstance(component.get("obj"), dict):
        raise DslError(f"Component '{cpn_id}' has no `obj` object.")
    obj = component["obj"]
    name = obj.get("component_name")
    if not isinstance(name, str) or not name:
        raise DslError(f"Component '{cpn_id}' has no component_name.")
    if not component_type(component):
        raise DslError(f"Component '{cpn_id}' has the unsupported type '{name}'.")
    if obj.get("params") is None:
        obj["params"] = {}
    if not isinstance(obj["params"], dict):
        raise DslError(f"Component '{cpn_id}' has params that are not an object.")
    for key in ("downstream", "upstream"):
        if component.get(key) is None:
            component[key] = []
        links = component[key]
        if not isinstance(links, list) or not all(isinstance(i, str) for i in links):
            raise DslError(f"Component '{cpn_id}' has a `{key}` that is not a list of ids.")
    params = obj["params"]
    kind = component_type(component)
    if kind == "Categorize":
        categories = params.get("category_description")
        if not isinstance(categories, dict) or not categories:
            raise DslError(f"Component '{cpn_id}' has no categories.")
        if not all(isinstance(c, dict) for c in categories.values()):
            raise DslError(f"Component '{cpn_id}' has a category that is not an object.")
    if kind == "Switch":
        conditions = params.get("conditions") or []
        if not isinstance(conditions, list) or not all(
            isinstance(c, dict) and isinstance(c.get("items") or [], list) for c in conditions
        ):
            raise DslError(f"Component '{cpn_id}' has malformed conditions.")


def _referenced_ids(component: dict[str, Any]) -> Iterator[str]:
    """Ids of the components whose outputs the params use."""
    params = component["obj"]["params"]
    for text in _strings(params):
        for match in TEMPLATE_REF.finditer(text):
            ref = parse_ref(match.group(1))
            if ref is not None and ref[0] == "cpn":
                yield ref[1]
    bare: list[Any] = []
    kind = component_type(component)
    if kind in ("Retrieval", "Categorize"):
        bare.append(params.get("query"))
    if kind == "Retrieval" and isinstance(params.get("kb_ids"), list):
        bare += params["kb_ids"]
    if kind == "Switch":
        for condition in params.get("conditions") or []:
            bare += [i.get("cpn_id") for i in condition.get("items") or [] if isinstance(i, dict)]
    for value in bare:
        ref = parse_ref(value.strip()) if isinstance(value, str) else None
        if ref is not None and ref[0] == "cpn":
            yield ref[1]
    for parameter in params.get("parameters") or []:  # v0.17 Generate
        if isinstance(parameter, dict) and isinstance(parameter.get("component_id"), str):
            yield parameter["component_id"]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_references(cpn_id: str, component: dict[str, Any], components: dict[str, Any]) -> None:
    linked = [
        *component["downstream"],
        *component["upstream"],
        *routing_targets(component),
        *_referenced_ids(component),
    ]
    for other in linked:
        if other not in components:
            raise DslError(f"Component '{cpn_id}' refers to unknown component '{other}'.")


def _check_acyclic(components: dict[str, Any]) -> None:
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(components, white)
    for root in components:
        if colour[root] != white:
            continue
        colour[root] = grey
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(successors(components[root])))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
            elif colour[child] == grey:
                raise DslError(f"Component '{child}' is part of a cycle.")
            elif colour[child] == white:
                colour[child] = grey
                stack.append((child, iter(successors(components[child]))))


def _check_reachable(components: dict[str, Any]) -> None:
    seen = {"begin"}
    todo = ["begin"]
    while todo:
        for child in successors(components[todo.pop()]):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    unreachable = [cpn_id for cpn_id in components if cpn_id not in seen]
    if len(unreachable) == 1:
        raise DslError(f"Component '{unreachable[0]}' is not reachable from begin.")
    if unreachable:
        names = ", ".join(f"'{cpn_id}'" for cpn_id in unreachable)
        raise DslError(f"Components {names} are not reachable from begin.")
