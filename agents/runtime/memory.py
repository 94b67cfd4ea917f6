"""Memories in an agent run (RAGFlow v0.27 DSL names).

- A Retrieval component with `memory_ids` (and `retrieval_from: "memory"`, or no datasets)
  searches those memories instead of datasets: its `formalized_content` is the contents of the
  best messages, one a line (RAGFlow's `_retrieve_memory`), filtered by `user_id` when set
  (a `{sys.user_id}` reference is resolved).
- A Message component with `memory_ids` saves the turn to those memories after replying: the
  question (`sys.query`) and the reply, with the run's agent and session ids (RAGFlow's
  `_save_to_memory`); extraction then runs as for POST /api/v1/messages.

Only memories the agent's owner may use take part; others are left out, as the API does.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async

from agents.runtime.state import ComponentError, RunState, Step
from agents.runtime.variables import resolve_param
from agents.selectors import memories_get_visible
from agents.services.memories import NewMessage, SearchFilters, memory_search, message_add
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError

logger = logging.getLogger(__name__)


def memory_ids_of(params: dict[str, Any]) -> list[str]:
    ids = params.get("memory_ids") or []
    if isinstance(ids, str):
        ids = ids.split(",")
    if not isinstance(ids, list):
        return []
    return [str(i).strip() for i in ids if str(i).strip()]


def uses_memory(params: dict[str, Any], has_datasets: bool) -> bool:
    """RAGFlow's order: `retrieval_from` decides; else datasets first, then memories."""
    source = params.get("retrieval_from")
    if source == "memory":
        return True
    if source == "dataset":
        return False
    return not has_datasets and bool(memory_ids_of(params))


def _search(tenant: User, memory_ids: list[str], query: str, user_id: str, params: dict) -> list:
    memories = memories_get_visible(tenant, memory_ids)
    if not memories:
        raise LookupError("No memory is selected.")
    found = memory_search(
        memories=memories,
        query=query,
        filters=SearchFilters(user_id=user_id),
        similarity_threshold=float(params.get("similarity_threshold", 0.2)),
        vector_weight=float(params.get("keywords_similarity_weight", 0.5)),
        top_n=max(int(params.get("top_n") or 8), 1),
    )
    return [hit.message.content for hit in found]


async def run_memory_retrieval(state: RunState, step: Step, query: str) -> None:
    params = step.params
    user_id = str(await resolve_param(state, params.get("user_id") or "") or "")
    try:
        contents = await sync_to_async(_search)(
            state.tenant, memory_ids_of(params), query, user_id, params
        )
    except LookupError as exc:
        raise ComponentError(step.id, str(exc)) from exc
    empty = str(params.get("empty_response") or "")
    state.set_output(step.id, "formalized_content", "\n".join(contents) if contents else empty)
    state.set_output(step.id, "chunks", [])


def _save(tenant: User, memory_ids: list[str], message: NewMessage) -> str:
    try:
        return message_add(user=tenant, memory_ids=memory_ids, message=message)
    except ServiceError as exc:
        return exc.message


async def save_to_memory(state: RunState, step: Step, content: str) -> str:
    """Save the turn when the Message names memories; the note RAGFlow's queue answers."""
    memory_ids = memory_ids_of(step.params)
    if not memory_ids:
        return "No memory selected."
    user_id = str(await resolve_param(state, step.params.get("user_id") or "") or "")
    message = NewMessage(
        user_id=user_id,
        agent_id=state.agent_id,
        session_id=state.session_id,
        user_input=str(state.globals.get("sys.query") or ""),
        agent_response=content,
    )
    note = await sync_to_async(_save)(state.tenant, memory_ids, message)
    if note != "All add to task.":
        logger.warning("agent %s could not save to memory: %s", state.agent_id, note)
    state.set_output(step.id, "memory_note", note)
    return note
