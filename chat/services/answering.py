"""Answering a question: retrieve, prompt, stream the model, cite. Shared by every interface.

`answer_stream` is the one place an answer is produced; the SSE endpoint, the OpenAI-compatible
endpoint and the websocket consumer only frame its events. Event order: zero or more partial
events (each with the new text in `delta`), then exactly one final event (the whole decorated
answer, full reference), or an error event. Partial events carry deltas, never the text so far,
so an answer of any length costs linear memory; frames that need cumulative text (RAGFlow's chat
SSE) build it themselves, sparingly. Everything blocking (ORM, retrieval, embeddings) runs in
threads via sync_to_async; the model streams with an async HTTP client or pure-Python code.

Citations read in answer order: the first chunk the answer cites is `[ID:0]` (shown as 1), the
next new one `[ID:1]`, and the reference lists the cited chunks first, in that order, then the
others in retrieval order. Nothing found (retrieval found nothing, or the model says the
no-answer text): one no-answer text, and a reference without chunks.

Ceilings: a chunk is quoted (in the prompt, to the model, in the reference) up to
RAGSITE_MAX_QUOTED_CHUNK_CHARS, and a model's answer stops at RAGSITE_MAX_ANSWER_CHARS.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.llm import ChatModelError, ChatRequest, KnowledgeChunk, Message, extractive
from chat.llm.registry import get_chat_model
from chat.llm.streaming import answer_deltas
from chat.models import DEFAULT_EMPTY_RESPONSE, Chat
from chat.services.assistants import fill_variables
from chat.services.citations import AnswerOrder, has_citations, insert_citations
from knowledge.retrieval import Hit
from knowledge.selectors import datasets_visible_to
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.api.exceptions import public_message


@dataclass
class ChatContext:
    """What answering needs from a chat, as plain data (safe to hand to async code)."""

    chat_id: str
    tenant: User
    dataset_ids: list[str]
    llm_id: str
    llm_setting: dict[str, Any]
    similarity_threshold: float
    vector_similarity_weight: float
    top_n: int
    top_k: int
    rerank_id: str
    prompt_config: dict[str, Any]

    @classmethod
    def of(cls, chat: Chat) -> ChatContext:
        return cls(
            chat_id=chat.pk,
            tenant=chat.tenant,
            dataset_ids=list(chat.dataset_ids),
            llm_id=chat.llm_id,
            llm_setting=dict(chat.llm_setting),
            similarity_threshold=chat.similarity_threshold,
            vector_similarity_weight=chat.vector_similarity_weight,
            top_n=chat.top_n,
            top_k=chat.top_k,
            rerank_id=chat.rerank_id,
            prompt_config=dict(chat.prompt_config),
        )


@dataclass
class AnswerEvent:
    answer: str  # the whole answer, on the final event only ("" on partial events)
    reference: dict[str, Any] = field(default_factory=dict)
    final: bool = False
    error: str | None = None
    prompt: str = ""
    created_at: float = 0.0
    delta: str = ""  # on partial events: the text added since the previous event


def quoted(text: str) -> str:
    """The part of a chunk's text that is quoted: RAGSITE_MAX_QUOTED_CHUNK_CHARS at most."""
    limit = settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS
    return text if len(text) <= limit else text[:limit]


def quoted_hits(hits: Sequence[Hit]) -> list[Hit]:
    """`hits` with their content cut to the quoting ceiling, as prompts and references show it.

    Long chunks also lose their segmented text (as long as the chunk), which nothing quotes.
    """
    limit = settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS
    return [
        dataclasses.replace(hit, content=hit.content[:limit], content_ltks="")
        if len(hit.content) > limit
        else hit
        for hit in hits
    ]


def reference_chunk(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "content": quoted(hit.content),
        "document_id": hit.document_id,
        "document_name": hit.document_name,
        "dataset_id": hit.dataset_id,
        "image_id": "",
        "positions": hit.positions,
        "url": None,
        "similarity": hit.similarity,
        "vector_similarity": hit.vector_similarity,
        "term_similarity": hit.term_similarity,
        "doc_type": "",
    }


def reference_of(hits: Sequence[Hit]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for hit in hits:
        counts[hit.document_id] = counts.get(hit.document_id, 0) + 1
        names[hit.document_id] = hit.document_name
    doc_aggs = [
        {"doc_name": names[doc_id], "doc_id": doc_id, "count": count}
        for doc_id, count in sorted(counts.items(), key=lambda item: -item[1])
    ]
    return {"total": len(hits), "chunks": [reference_chunk(h) for h in hits], "doc_aggs": doc_aggs}


def knowledge_text(hits: Sequence[Hit]) -> str:
    """The chunks as the prompt shows them, numbered for [ID:n] citations."""
    return "\n\n".join(
        f"ID: {index}\n├── Title: {hit.document_name}\n└── Content: {quoted(hit.content)}"
        for index, hit in enumerate(hits)
    )


def _retrieve(ctx: ChatContext, question: str, extra: dict[str, Any]) -> list[Hit]:
    dataset_ids = list(ctx.dataset_ids)
    extra_kbs = extra.get("kb_ids")
    if isinstance(extra_kbs, list):
        dataset_ids += [str(k) for k in extra_kbs if str(k) not in dataset_ids]
    if not dataset_ids or not question.strip():
        return []
    doc_ids = extra.get("doc_ids")
    documents = [d for d in str(doc_ids).split(",") if d] if doc_ids else []
    # A metadata filter (OpenAI-compatible `metadata_condition`) that matches nothing finds nothing.
    condition = extra.get("metadata_condition")
    conditions = condition.get("conditions") if isinstance(condition, dict) else None
    result = retrieval_run(
        user=ctx.tenant,
        request=RetrievalRequest(
            question=question,
            dataset_ids=dataset_ids,
            document_ids=documents,
            page_size=max(ctx.top_n, 1),
            similarity_threshold=ctx.similarity_threshold,
            # The chat stores RAGFlow's `vector_similarity_weight` as sent in
            # `keywords_similarity_weight`; retrieval weighs the vector side by it.
            vector_similarity_weight=ctx.vector_similarity_weight,
            top_k=ctx.top_k,
            rerank_id=ctx.rerank_id or None,
            highlight=False,
            conditions=conditions if isinstance(conditions, list) else [],
            # RAGFlow's prompt_config `use_kg`: the knowledge-graph chunk comes first.
            use_kg=bool(ctx.prompt_config.get("use_kg")),
            # and `toc_enhance`: the chunks of the relevant table-of-contents sections join.
            toc_enhance=bool(ctx.prompt_config.get("toc_enhance")),
        ),
    )
    return quoted_hits(result.hits) if result else []


def no_answer_text(config: dict[str, Any], question: str) -> str:
    """The one text for "nothing found": the chat's empty_response, the default one in the
    question's language, or "" when the chat cleared it (then the model answers freely)."""
    text = str(config.get("empty_response") or "").strip()
    if text == DEFAULT_EMPTY_RESPONSE and extractive.is_mostly_cjk(question):
        return extractive.NOT_FOUND_ZH
    return text


def embedding_model_of(ctx: ChatContext) -> str:
    """The embedding model of the chat's datasets ("" without datasets)."""
    if not ctx.dataset_ids:
        return ""
    model = (
        datasets_visible_to(ctx.tenant)
        .filter(pk__in=ctx.dataset_ids)
        .values_list("embedding_model", flat=True)
        .first()
    )
    return model or ""


async def _renumbered(source: AsyncIterator[str], order: AnswerOrder) -> AsyncIterator[str]:
    try:
        async for delta in source:
            text = order.feed(delta)
            if text:
                yield text
        rest = order.flush()
        if rest:
            yield rest
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def answer_stream(
    ctx: ChatContext, *, question: str, history: list[Message], extra: dict[str, Any]
) -> AsyncIterator[AnswerEvent]:
    """Answer `question` in the context of `history`; see the module docstring for the events."""
    started = time.time()
    config = ctx.prompt_config
    quote = bool(extra.get("quote", config.get("quote", True)))
    try:
        hits = await sync_to_async(_retrieve)(ctx, question, extra)
        no_answer = no_answer_text(config, question)
        if ctx.dataset_ids and not hits and no_answer:
            # Nothing relevant: say so without calling the model (contract §5.1), no sources.
            yield AnswerEvent(no_answer, reference_of([]), final=True, created_at=time.time())
            return
        system = fill_variables(
            str(config.get("system") or ""), list(config.get("parameters") or []), extra
        ).replace("{knowledge}", knowledge_text(hits))
        model = await sync_to_async(get_chat_model)(ctx.llm_id)
        embedding_model = (
            await sync_to_async(embedding_model_of)(ctx) if model.extractive and hits else ""
        )
        setting = ctx.llm_setting
        request = ChatRequest(
            system=system,
            history=history,
            question=question,
            knowledge=[
                KnowledgeChunk(index=i, content=h.content, document_name=h.document_name)
                for i, h in enumerate(hits)
            ],
            quote=quote,
            has_datasets=bool(ctx.dataset_ids),
            temperature=float(setting.get("temperature", 0.1)),
            top_p=float(setting.get("top_p", 0.3)),
            max_tokens=int(setting.get("max_tokens", 512)),
            presence_penalty=float(setting.get("presence_penalty", 0.4)),
            frequency_penalty=float(setting.get("frequency_penalty", 0.7)),
            embedding_model=embedding_model,
            no_answer=no_answer,
        )
        limit = settings.RAGSITE_MAX_ANSWER_CHARS
        order = AnswerOrder(len(hits))
        parts: list[str] = []
        async for delta in answer_deltas(_renumbered(model.stream(request), order), limit):
            parts.append(delta)
            yield AnswerEvent("", {"chunks": []}, delta=delta)
        answer = "".join(parts)
        if model.extractive and answer.strip() == extractive.no_answer_text(request):
            reference = reference_of([])  # "nothing found" shows no sources
        else:
            if quote and hits and not has_citations(answer):
                answer = order.text(insert_citations(answer, [h.content for h in hits]))[:limit]
            reference = reference_of(order.reorder(hits)) if ctx.dataset_ids else {"chunks": []}
        timing = f"\n\n### Elapsed: {time.time() - started:.2f}s, model {model.model_id}"
        yield AnswerEvent(
            answer, reference, final=True, prompt=system + timing, created_at=time.time()
        )
    except (ChatModelError, ServiceError) as exc:
        yield AnswerEvent("", error=public_message(exc))
