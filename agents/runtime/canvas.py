"""Running an agent DSL: walk the graph from begin, one component at a time (contract §8.7)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from agents.runtime.begin import run_begin
from agents.runtime.categorize import run_categorize
from agents.runtime.dsl import DslError, begin_inputs, component_type, successors, validate_dsl
from agents.runtime.llm import run_llm
from agents.runtime.message import run_message
from agents.runtime.retrieval import run_retrieval
from agents.runtime.state import ComponentError, RunEvent, RunState, Step, reason_of
from agents.runtime.switch import run_switch
from ragsite.accounts.models import User

logger = logging.getLogger(__name__)

MAX_STEPS = 100  # component executions per run, against runaway graphs

Runner = Callable[[RunState, Step], Awaitable[None]]
RUNNERS: dict[str, Runner] = {
    "Begin": run_begin,
    "Retrieval": run_retrieval,
    "LLM": run_llm,
    "Generate": run_llm,
    "Agent": run_llm,
    "Categorize": run_categorize,
    "Switch": run_switch,
}
REPLIES = ("Message", "Answer")


class Graph:
    """The components with their edges (downstream links plus routing targets)."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self.children = {cpn_id: successors(c) for cpn_id, c in components.items()}
        self.parents: dict[str, set[str]] = {cpn_id: set() for cpn_id in components}
        for cpn_id, children in self.children.items():
            for child in children:
                self.parents[child].add(cpn_id)

    def step(self, cpn_id: str) -> Step:
        component = self.components[cpn_id]
        return Step(
            id=cpn_id,
            type=component_type(component),
            params=component["obj"]["params"],
            downstream=list(component["downstream"]),
            upstream=list(component["upstream"]) or sorted(self.parents[cpn_id]),
        )

    def next_ready(self, pending: list[str], done: set[str]) -> str:
        """The first pending component none of whose parents may still run (joins wait)."""
        may_run = set(pending)
        todo = list(pending)
        while todo:
            for child in self.children[todo.pop()]:
                if child not in may_run and child not in done:
                    may_run.add(child)
                    todo.append(child)
        for cpn_id in pending:
            if not (self.parents[cpn_id] - done) & may_run:
                return cpn_id
        return pending[0]


def _start_state(
    dsl: dict[str, Any],
    tenant: User,
    question: str,
    history: list[tuple[str, str]],
    inputs: dict[str, Any],
    user_id: str,
) -> RunState:
    turns = sum(1 for role, _content in history if role == "user") + 1
    globals_ = {
        **dsl["globals"],
        "sys.query": question,
        "sys.user_id": user_id,
        "sys.conversation_turns": turns,
        "sys.files": [],
    }
    return RunState(
        tenant=tenant,
        history=list(history),
        globals=globals_,
        inputs=dict(inputs or {}),
        begin_inputs=begin_inputs(dsl),
    )


async def _run_step(state: RunState, step: Step) -> AsyncIterator[RunEvent]:
    if step.type in REPLIES:
        async for event in run_message(state, step):
            yield event
    else:
        await RUNNERS[step.type](state, step)


async def run_agent(
    dsl: dict[str, Any],
    *,
    tenant: User,
    question: str,
    history: list[tuple[str, str]],
    inputs: dict[str, Any],
    user_id: str = "",
    agent_id: str = "",
    session_id: str = "",
) -> AsyncIterator[RunEvent]:
    """Run `dsl` for one question: "message" deltas and a "message_end" per reply, or an "error".

    Blocking work (ORM, retrieval) runs in threads; LLM replies stream as the model produces them.
    """
    try:
        dsl = validate_dsl(dsl)
    except DslError as exc:
        yield RunEvent("error", error=exc.message)
        return
    state = _start_state(dsl, tenant, question, history, inputs, user_id)
    state.agent_id, state.session_id = agent_id, session_id
    graph = Graph(dsl["components"])
    queue: list[str] = ["begin"]
    done: set[str] = set()
    while pending := [cpn_id for cpn_id in queue if cpn_id not in done]:
        if len(state.executed) >= MAX_STEPS:
            yield RunEvent("error", error=f"The agent ran more than {MAX_STEPS} components.")
            return
        step = graph.step(graph.next_ready(pending, done))
        try:
            async for event in _run_step(state, step):
                yield event
        except ComponentError as exc:
            yield RunEvent("error", error=str(exc))
            return
        except Exception as exc:
            logger.warning("Agent component %s failed", step.id, exc_info=True)
            yield RunEvent("error", error=str(ComponentError(step.id, reason_of(exc))))
            return
        done.add(step.id)
        state.executed.append(step.id)
        chosen = step.downstream if step.next_ids is None else step.next_ids
        queue += [cpn_id for cpn_id in chosen if cpn_id not in queue]
