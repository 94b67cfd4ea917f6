"""Retrieval: searches the tenant's datasets and numbers the hits run-wide for [ID:n] citations."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from agents.runtime.memory import run_memory_retrieval, uses_memory
from agents.runtime.state import RunState, Step
from agents.runtime.variables import resolve_param
from chat.services.answering import quoted_hits, reference_chunk
from knowledge.retrieval import Hit
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.accounts.models import User


def formalize(hits: list[Hit], indexes: list[int]) -> str:
    """The chunks as a prompt shows them, numbered with their run-wide citation numbers."""
    return "\n\n".join(
        f"ID: {index}\n├── Title: {hit.document_name}\n└── Content: {hit.content}"
        for index, hit in zip(indexes, hits, strict=True)
    )


def _dataset_ids(values: list[Any]) -> list[str]:
    ids: list[str] = []
    for value in values:
        parts = value if isinstance(value, list) else str(value or "").split(",")
        for part in parts:
            if (text := str(part).strip()) and text not in ids:
                ids.append(text)
    return ids


def _search(tenant: User, request: RetrievalRequest) -> list[Hit]:
    result = retrieval_run(user=tenant, request=request)
    # Cut to RAGSITE_MAX_QUOTED_CHUNK_CHARS: prompts, replies and references quote no more.
    return quoted_hits(result.hits) if result else []


async def run_retrieval(state: RunState, step: Step) -> None:
    """Output `formalized_content` and `chunks`; hits join the run's reference list."""
    params = step.params
    kb_ids = params.get("kb_ids") or []
    if not isinstance(kb_ids, list):
        kb_ids = [kb_ids]
    dataset_ids = _dataset_ids([await resolve_param(state, item) for item in kb_ids])
    query_param = params.get("query")
    query = await resolve_param(state, query_param if isinstance(query_param, str) else "sys.query")
    query = str(query or "").strip()
    if uses_memory(params, bool(dataset_ids)):
        await run_memory_retrieval(state, step, query)
        return
    hits: list[Hit] = []
    if dataset_ids:
        state.retrieved = True
        request = RetrievalRequest(
            question=query,
            dataset_ids=dataset_ids,
            page_size=max(int(params.get("top_n") or 8), 1),
            similarity_threshold=float(params.get("similarity_threshold", 0.2)),
            # Same reading as chat: RAGFlow's `keywords_similarity_weight` weighs the vector side.
            vector_similarity_weight=float(params.get("keywords_similarity_weight", 0.3)),
            top_k=int(params.get("top_k") or 1024),
            rerank_id=params.get("rerank_id") or None,
            highlight=False,
        )
        # ORM, embeddings and pgvector are blocking: run them in a thread.
        hits = await sync_to_async(_search)(state.tenant, request)
    indexes = state.add_hits(hits)
    empty = str(params.get("empty_response") or "")
    state.set_output(step.id, "formalized_content", formalize(hits, indexes) if hits else empty)
    state.set_output(step.id, "chunks", [reference_chunk(hit) for hit in hits])
