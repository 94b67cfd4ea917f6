"""What one agent run carries between components: outputs, retrieved chunks, events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from chat.llm import KnowledgeChunk
from chat.services.answering import reference_chunk
from chat.services.citations import cited_indexes
from knowledge.retrieval import Hit
from ragsite.accounts.models import User
from ragsite.api.exceptions import public_message


@dataclass
class RunEvent:
    """One thing a run reports: a text delta, the end of a reply, or the error that ended it."""

    kind: str  # "message" | "message_end" | "error"
    content: str = ""
    reference: dict[str, Any] | None = None  # on message_end; None when the reply cites nothing
    error: str | None = None  # on error: names the failing component


class ComponentError(Exception):
    """A component failed; the run ends with "Component '<id>' failed: <reason>"."""

    def __init__(self, component_id: str, reason: str) -> None:
        super().__init__(f"Component '{component_id}' failed: {reason}")
        self.component_id = component_id
        self.reason = reason


def reason_of(exc: BaseException) -> str:
    """A readable reason: ServiceError/ChatModelError messages; never raw exception text."""
    return public_message(exc)


class LazyText:
    """A text output still being produced (an LLM's reply): stream its deltas or await it whole.

    The source runs once; a second consumer gets the recorded text. Failures are reported as the
    owning component's, even when a Message component is the one streaming them.
    """

    def __init__(self, source: AsyncIterator[str], *, owner: str) -> None:
        self._source = source
        self._owner = owner
        self._parts: list[str] = []
        self._done = False

    async def deltas(self) -> AsyncIterator[str]:
        """Yield the text as it arrives (what is already known first, in one piece)."""
        if self._parts:
            yield "".join(self._parts)
        if self._done:
            return
        try:
            async for delta in self._source:
                if delta:
                    self._parts.append(delta)
                    yield delta
        except ComponentError:
            raise
        except Exception as exc:
            raise ComponentError(self._owner, reason_of(exc)) from exc
        self._done = True

    async def text(self) -> str:
        """The whole text, once the source is exhausted."""
        async for _delta in self.deltas():
            pass
        return "".join(self._parts)


@dataclass
class Step:
    """The component being run: its id, canonical type, params and links."""

    id: str
    type: str
    params: dict[str, Any]
    downstream: list[str]
    upstream: list[str]
    next_ids: list[str] | None = None  # set by Categorize/Switch: the chosen branch


@dataclass
class RunState:
    """Everything components share during one run."""

    tenant: User
    history: list[tuple[str, str]]
    globals: dict[str, Any]
    inputs: dict[str, Any]
    begin_inputs: dict[str, Any]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)  # run-wide; a hit's index is its [ID:n]
    retrieved: bool = False  # a Retrieval component searched at least one dataset
    executed: list[str] = field(default_factory=list)
    agent_id: str = ""  # the agent and session a run belongs to (saved with memory messages)
    session_id: str = ""

    def set_output(self, cpn_id: str, name: str, value: Any) -> None:
        self.outputs.setdefault(cpn_id, {})[name] = value

    def add_hits(self, hits: list[Hit]) -> list[int]:
        """Number new hits after the earlier ones; a chunk found twice keeps its first number."""
        known = {hit.id: index for index, hit in enumerate(self.hits)}
        indexes: list[int] = []
        for hit in hits:
            if hit.id not in known:
                known[hit.id] = len(self.hits)
                self.hits.append(hit)
            indexes.append(known[hit.id])
        return indexes

    def knowledge(self) -> list[KnowledgeChunk]:
        return [
            KnowledgeChunk(index=i, content=h.content, document_name=h.document_name)
            for i, h in enumerate(self.hits)
        ]

    def reference_for(self, text: str) -> dict[str, Any] | None:
        """The agent reference (contract §8.5) of the [ID:n] citations in `text`, or None."""
        numbers = [n for n in cited_indexes(text) if n < len(self.hits)]
        if not numbers:
            return None
        doc_aggs: dict[str, dict[str, Any]] = {}
        for n in numbers:
            hit = self.hits[n]
            agg = doc_aggs.setdefault(
                hit.document_name,
                {"doc_name": hit.document_name, "doc_id": hit.document_id, "count": 0},
            )
            agg["count"] += 1
        return {
            "chunks": {str(n): reference_chunk(self.hits[n]) for n in numbers},
            "doc_aggs": doc_aggs,
        }
