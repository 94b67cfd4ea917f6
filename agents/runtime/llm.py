"""LLM (v0.17 Generate, v0.22 Agent): prompts a chat model; its `content` streams lazily."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from agents.runtime.state import LazyText, RunState, Step
from agents.runtime.variables import main_output, render, text_of
from chat.llm import ChatModel, ChatRequest, Message
from chat.llm.registry import get_chat_model
from chat.llm.streaming import bounded

logger = logging.getLogger(__name__)

DEFAULT_PROMPTS = [{"role": "user", "content": "{sys.query}"}]
HISTORY_WINDOW = 12  # earlier messages passed to the model, RAGFlow's default window
# (param, default) as chat uses them; RAGFlow's `<param>Enabled: false` means "use the default".
SETTINGS: dict[str, float] = {
    "temperature": 0.1,
    "top_p": 0.3,
    "max_tokens": 512,
    "presence_penalty": 0.4,
    "frequency_penalty": 0.7,
}


async def load_model(llm_id: Any) -> ChatModel:
    """The chat model for `llm_id` ("" means the default); a thread because it reads the ORM."""
    return await sync_to_async(get_chat_model)(str(llm_id or "") or None)


def history_messages(state: RunState, window: int = HISTORY_WINDOW) -> list[Message]:
    """The conversation's earlier turns, newest `window` of them."""
    turns = [Message(role, content) for role, content in state.history if role != "system"]
    return turns[-window:] if window > 0 else []


def _setting(params: dict[str, Any], name: str) -> float:
    if params.get(f"{name}Enabled") is False or params.get(name) in (None, ""):
        return SETTINGS[name]
    return float(params[name])


async def _local_names(state: RunState, step: Step) -> dict[str, Any]:
    """v0.17 Generate's `{input}` (upstream outputs) and `parameters` ({key} → a component)."""
    local: dict[str, Any] = {}
    upstream = [cpn_id for cpn_id in step.upstream if cpn_id in state.outputs]
    if len(upstream) == 1:
        local["input"] = main_output(state, upstream[0])
    elif upstream:
        local["input"] = "\n".join([await text_of(main_output(state, u)) for u in upstream])
    for parameter in step.params.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("key") and parameter.get("component_id"):
            local[str(parameter["key"])] = main_output(state, str(parameter["component_id"]))
    return local


async def build_request(state: RunState, step: Step) -> ChatRequest:
    """The ChatRequest of an LLM step: prompts filled in, the run's chunks as knowledge."""
    params = step.params
    local = await _local_names(state, step) if step.type == "Generate" else {}
    system_template = params.get("sys_prompt") or params.get("prompt") or ""  # v0.17: `prompt`
    system = await render(state, str(system_template), local)
    prompts = params.get("prompts") or DEFAULT_PROMPTS
    if isinstance(prompts, str):
        prompts = [{"role": "user", "content": prompts}]
    messages = [
        Message(
            str(p.get("role") or "user"), await render(state, str(p.get("content") or ""), local)
        )
        for p in prompts
        if isinstance(p, dict)
    ]
    user_positions = [i for i, m in enumerate(messages) if m.role == "user"]
    if user_positions:
        last = user_positions[-1]
        question = messages[last].content
        extra = [m for i, m in enumerate(messages) if i != last and m.role != "system"]
    else:
        question = str(state.globals.get("sys.query") or "")
        extra = [m for m in messages if m.role != "system"]
    window = int(params.get("message_history_window_size", HISTORY_WINDOW) or 0)
    return ChatRequest(
        system=system,
        history=history_messages(state, window) + extra,
        question=question,
        knowledge=state.knowledge(),
        quote=bool(params.get("cite", True)),
        temperature=_setting(params, "temperature"),
        top_p=_setting(params, "top_p"),
        max_tokens=int(_setting(params, "max_tokens")),
        presence_penalty=_setting(params, "presence_penalty"),
        frequency_penalty=_setting(params, "frequency_penalty"),
        has_datasets=state.retrieved,
    )


async def run_llm(state: RunState, step: Step) -> None:
    """Output `content`: a LazyText that calls the model only when something reads it.

    The model's answer stops at RAGSITE_MAX_ANSWER_CHARS.
    """
    if step.type == "Agent" and (step.params.get("tools") or step.params.get("mcp")):
        logger.info("Agent component %s: tools and MCP servers are not supported, ignored", step.id)
    model = await load_model(step.params.get("llm_id"))
    request = await build_request(state, step)
    answer = bounded(model.stream(request), settings.RAGSITE_MAX_ANSWER_CHARS)
    state.set_output(step.id, "content", LazyText(answer, owner=step.id))
