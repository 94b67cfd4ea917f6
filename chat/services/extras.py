"""RAGFlow v0.27's chat extras (contract §3.7): deleting a question and its answer, feedback
on an answer, related questions and the mind map.

Related questions and mind maps ask the chat model when it is a generative one (an
OpenAI-compatible provider); the built-in extractive model writes no new text, so they are
built from the chunks a search of the datasets finds instead (chat/suggest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction

from chat.llm import ChatModel, ChatModelError, ChatRequest
from chat.llm.registry import default_chat_model_id, get_chat_model
from chat.models import ChatSession
from chat.selectors import chat_get_owned, search_owned_or_raise
from chat.services.searches import SEARCH_PAGE_SIZE, search_model_id
from chat.suggest import (
    MIND_MAP_PROMPT,
    RELATED_QUESTION_PROMPT,
    FoundChunk,
    mind_map_from_chunks,
    numbered_lines,
    related_from_chunks,
    related_terms_prompt,
    related_user_message,
    tree_from_markdown,
)
from knowledge.selectors import datasets_visible_to
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.accounts.models import User
from ragsite.api.errors import AuthenticationError, DataError, ExceptionError

NEEDS_MODEL = (
    "The built-in model writes no new text, so it suggests {what} from the chunks a search "
    "finds: give `search_id` of a search app with datasets, or `kb_ids`. Or configure an "
    "OpenAI-compatible chat model (a model provider, then RAGSITE_DEFAULT_CHAT_MODEL or the "
    "search app's chat model) to generate them."
)


# --- messages ----------------------------------------------------------------------------------


def _locked_session(tenant: User, chat_id: str, session_id: str) -> ChatSession:
    """The session, locked for update: 109 for a chat that is not the caller's, 102 for a
    session that is not that chat's."""
    if chat_get_owned(tenant, chat_id) is None:
        raise AuthenticationError("no authorization", data=False)
    session = ChatSession.objects.select_for_update().filter(pk=session_id, chat_id=chat_id).first()
    if session is None:
        raise DataError("Session not found!")
    return session


def message_delete(*, tenant: User, chat_id: str, session_id: str, msg_id: str) -> ChatSession:
    """Remove question `msg_id`, its answer (same id) and the answer's reference entry.

    An id no message has changes nothing.
    """
    with transaction.atomic():
        session = _locked_session(tenant, chat_id, session_id)
        messages = list(session.messages)
        references = list(session.references)
        for index, message in enumerate(messages):
            if message.get("id") != msg_id:
                continue
            pair = index + 1 < len(messages) and messages[index + 1].get("id") == msg_id
            answers_before = sum(
                1 for m in messages[1:index] if m.get("role") == "assistant"
            )  # the opener (index 0) has no reference entry
            removed = messages[index : index + 2] if pair else [message]
            del messages[index : index + len(removed)]
            if any(m.get("role") == "assistant" for m in removed) and answers_before < len(
                references
            ):
                del references[answers_before]
            session.messages = messages
            session.references = references
            session.save(update_fields=["messages", "references", "updated_at"])
            break
    return session


def message_feedback(
    *,
    tenant: User,
    chat_id: str,
    session_id: str,
    msg_id: str,
    thumbup: Any,
    feedback: Any = "",
) -> ChatSession:
    """Thumbs up (drops any feedback text) or down (keeps `feedback` when given) on answer
    `msg_id`. An id no answer has changes nothing."""
    with transaction.atomic():
        session = _locked_session(tenant, chat_id, session_id)
        if not isinstance(thumbup, bool):
            raise DataError("thumbup must be a boolean")
        if feedback is not None and not isinstance(feedback, str):
            raise DataError("feedback must be a string")
        limit = settings.RAGSITE_MAX_QUESTION_CHARS
        if feedback and len(feedback) > limit:
            raise DataError(f"feedback is too long: at most {limit} characters.")
        messages = [dict(m) for m in session.messages]
        for message in messages:
            if message.get("id") == msg_id and message.get("role") == "assistant":
                message["thumbup"] = thumbup
                if thumbup:
                    message.pop("feedback", None)
                elif feedback:
                    message["feedback"] = feedback
                session.messages = messages
                session.save(update_fields=["messages", "updated_at"])
                break
    return session


# --- related questions and mind maps -----------------------------------------------------------


@dataclass
class SuggestScope:
    """What a suggestion reads: the model, the datasets and the search settings."""

    tenant: User
    model_id: str
    dataset_ids: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)


def _dataset_ids(tenant: User, kb_ids: Any) -> list[str]:
    if kb_ids is None:
        return []
    if not isinstance(kb_ids, list) or not all(isinstance(k, str) for k in kb_ids):
        raise DataError("`kb_ids` should be a list of dataset ids.")
    wanted = list(dict.fromkeys(k for k in kb_ids if k))
    visible = set(datasets_visible_to(tenant).filter(pk__in=wanted).values_list("pk", flat=True))
    for kb_id in wanted:
        if kb_id not in visible:
            raise DataError(f"You don't own the dataset {kb_id}")
    return wanted


def suggest_scope(*, tenant: User, search_id: Any = "", kb_ids: Any = None) -> SuggestScope:
    """The caller's search app `search_id` (its model, settings and datasets) plus `kb_ids`."""
    if search_id is not None and not isinstance(search_id, str):
        raise DataError("`search_id` should be a string.")
    config: dict[str, Any] = {}
    if search_id:
        config = dict(search_owned_or_raise(tenant, search_id).search_config or {})
    own: list[Any] = config["kb_ids"] if isinstance(config.get("kb_ids"), list) else []
    dataset_ids = _dataset_ids(tenant, [*own, *_dataset_ids(tenant, kb_ids)])
    model_id = search_model_id(config) if config else default_chat_model_id()
    return SuggestScope(tenant, model_id, dataset_ids, config)


def found_chunks(scope: SuggestScope, question: str) -> list[FoundChunk]:
    """The chunks a search of the scope's datasets finds for `question` (RAGFlow: 12)."""
    if not scope.dataset_ids:
        return []
    config = scope.config
    result = retrieval_run(
        user=scope.tenant,
        request=RetrievalRequest(
            question=question,
            dataset_ids=scope.dataset_ids,
            document_ids=list(config.get("doc_ids") or []),
            page_size=SEARCH_PAGE_SIZE,
            similarity_threshold=float(config.get("similarity_threshold", 0.2)),
            vector_similarity_weight=float(config.get("vector_similarity_weight", 0.3)),
            top_k=int(config.get("top_k", 1024)),
            rerank_id=str(config.get("rerank_id") or "") or None,
            highlight=False,
        ),
    )
    hits = result.hits if result else []
    return [
        FoundChunk(h.content, h.document_name, list(h.questions), list(h.important_keywords))
        for h in hits
    ]


def _setting(config: dict[str, Any], key: str, default: float) -> float:
    setting = config.get("llm_setting") or {}
    value = setting.get(key) if isinstance(setting, dict) else None
    enabled = setting.get(f"{key}_enabled", True) if isinstance(setting, dict) else True
    return float(value) if isinstance(value, int | float) and enabled else default


async def _generate(
    model: ChatModel, *, system: str, user: str, temperature: float, config: dict[str, Any]
) -> str:
    """The model's whole reply (cut at RAGSITE_MAX_ANSWER_CHARS); code 100 when it fails."""
    request = ChatRequest(
        system=system,
        history=[],
        question=user,
        knowledge=[],
        quote=False,
        has_datasets=False,
        temperature=temperature,
        top_p=_setting(config, "top_p", 0.3),
        max_tokens=1024,
        presence_penalty=_setting(config, "presence_penalty", 0.4),
        frequency_penalty=_setting(config, "frequency_penalty", 0.7),
    )
    limit = settings.RAGSITE_MAX_ANSWER_CHARS
    parts: list[str] = []
    size = 0
    try:
        async for delta in model.stream(request):
            parts.append(delta)
            size += len(delta)
            if size >= limit:
                break
    except ChatModelError as exc:
        raise ExceptionError(exc.message) from exc
    return "".join(parts)[:limit]


async def _model(scope: SuggestScope) -> ChatModel:
    try:
        return await sync_to_async(get_chat_model)(scope.model_id)
    except ChatModelError as exc:
        raise DataError(exc.message) from exc


async def related_questions(
    scope: SuggestScope, question: str, *, industry: str | None = None
) -> list[str]:
    """5–10 related questions from the chat model, or the chunks' own (built-in model).

    `industry` given (even ""): RAGFlow v0.22's search-terms prompt (the legacy route).
    """
    model = await _model(scope)
    if model.extractive:
        if not scope.dataset_ids:
            raise DataError(NEEDS_MODEL.format(what="related questions"))
        chunks = await sync_to_async(found_chunks)(scope, question)
        return related_from_chunks(question, chunks)
    if industry is not None:
        system, temperature = related_terms_prompt(industry), 0.9
    else:
        system, temperature = RELATED_QUESTION_PROMPT, _setting(scope.config, "temperature", 0.1)
    reply = await _generate(
        model,
        system=system,
        user=related_user_message(question),
        temperature=temperature,
        config=scope.config,
    )
    return numbered_lines(reply)


async def mind_map(scope: SuggestScope, question: str) -> dict[str, Any]:
    """A mind map of what the datasets say about `question`: `{id, name, children: […]}`."""
    if not scope.dataset_ids:
        raise ExceptionError("No KB selected")
    model = await _model(scope)
    chunks = await sync_to_async(found_chunks)(scope, question)
    if model.extractive:
        return mind_map_from_chunks(question, chunks)
    if not chunks:
        return {"id": "root", "name": "root", "children": []}
    text = "\n".join(c.content for c in chunks)
    reply = await _generate(
        model,
        system=MIND_MAP_PROMPT.replace("{input_text}", text),
        user="Output:",
        temperature=_setting(scope.config, "temperature", 0.1),
        config=scope.config,
    )
    return tree_from_markdown(reply)


def suggestion_scope_for_chat(tenant: User, chat_id: str) -> SuggestScope:
    """The chat page's scope: the chat's own model and datasets."""
    chat = chat_get_owned(tenant, chat_id)
    if chat is None:
        raise AuthenticationError("no authorization", data=False)
    visible = set(
        datasets_visible_to(tenant).filter(pk__in=chat.dataset_ids).values_list("pk", flat=True)
    )
    return SuggestScope(
        tenant,
        chat.llm_id or default_chat_model_id(),
        [d for d in chat.dataset_ids if d in visible],
        {
            "similarity_threshold": chat.similarity_threshold,
            "vector_similarity_weight": chat.vector_similarity_weight,
            "top_k": chat.top_k,
            "rerank_id": chat.rerank_id,
            "llm_setting": chat.llm_setting,
        },
    )
