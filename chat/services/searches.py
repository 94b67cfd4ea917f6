"""Search apps: create, update, delete (RAGFlow v0.27 `/searches`, contract §3.8), and the
answer a search app gives (`search_answer_context`, used by POST /searches/{id}/completions and
the Search page's summary).

A search app stores RAGFlow's `search_config` keys as sent. The keys ragsite acts on are checked
when they are written, so a stored configuration never breaks a search later; unknown keys are
kept as they are (RAGFlow's web client stores its own).
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction

from chat.llm.registry import chat_model_exists, default_chat_model_id
from chat.models import SearchApp, default_search_config
from chat.selectors import search_owned_or_raise
from chat.services.answering import ChatContext
from knowledge.retrieval import Result
from knowledge.selectors import datasets_visible_to
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.accounts.models import User
from ragsite.api.errors import AuthenticationError, DataError
from ragsite.names import free_name

CREATE_NAME_LIMIT = 255  # bytes, as RAGFlow counts them on create
UPDATE_NAME_LIMIT = 128  # RAGFlow's DATASET_NAME_LIMIT, used on update

# RAGFlow's ASK_SUMMARY prompt (rag/prompts/ask_summary.md), {knowledge} filled by answering.
ASK_SUMMARY = (
    "Role: You're a smart assistant. Your name is Miss R.\n"
    "Task: Summarize the information from knowledge bases and answer user's question.\n"
    "Requirements and restriction:\n"
    "  - DO NOT make things up, especially for numbers.\n"
    "  - If the knowledge is only partially relevant, or the question may refer to something "
    "mentioned in the knowledge (e.g. a name, date, or phrase), briefly point out the mismatch "
    "and still summarize the closest relevant content instead of refusing.\n"
    "  - Only if the information from knowledge is completely irrelevant to user's question, "
    "politely say that no relevant information was found, and ALWAYS say it in the language of "
    "user's question.\n"
    "  - Answer with markdown format text.\n"
    "  - Answer in language of user's question.\n"
    "  - DO NOT make things up, especially for numbers.\n\n"
    "### Information from knowledge bases\n\n{knowledge}\n\n"
    "The above is information from knowledge bases."
)
SEARCH_PAGE_SIZE = 12  # the chunks a search answers from (RAGFlow's async_ask)


def _check_name(name: Any, *, limit: int, period: bool) -> str:
    """RAGFlow's name checks (102), in its order; the name stripped."""
    if not isinstance(name, str):
        raise DataError("Search name must be string.")
    if not name.strip():
        raise DataError("Search name can't be empty.")
    if len(name.encode("utf-8")) > limit:
        raise DataError(
            f"Search name length is {len(name)} which is large than {limit}{'.' if period else ''}"
        )
    return name.strip()


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataError(f"Search {what} must be string.")
    return value


def _number(config: dict[str, Any], key: str, low: float, high: float) -> None:
    value = config.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DataError(f"search_config.{key} must be a number from {low:g} to {high:g}.")


def checked_config(config: Any) -> dict[str, Any]:
    """`config` when ragsite can act on every key it uses, else 102 naming the key."""
    if not isinstance(config, dict):
        raise DataError("search_config must be a JSON object")
    for key in ("kb_ids", "doc_ids"):
        ids = config.get(key)
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids)
        ):
            raise DataError(f"search_config.{key} must be a list of ids.")
    _number(config, "similarity_threshold", 0, 1)
    _number(config, "vector_similarity_weight", 0, 1)
    top_k = config.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise DataError("search_config.top_k must be a positive integer.")
    for key in ("rerank_id", "chat_id"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise DataError(f"search_config.{key} must be a string.")
    for key in ("summary", "highlight", "keyword", "related_search", "query_mindmap"):
        if config.get(key) is not None and not isinstance(config[key], bool):
            raise DataError(f"search_config.{key} must be a boolean.")
    setting = config.get("llm_setting")
    if setting is not None and not isinstance(setting, dict):
        raise DataError("search_config.llm_setting must be a JSON object")
    return config


def _free_name(tenant: User, name: str) -> str:
    """`name`, or RAGFlow's `duplicate_name`: name(1), name(2), … until unused."""
    return free_name(
        name,
        SearchApp.objects.filter(tenant=tenant, status="1", name__startswith=name).values_list(
            "name", flat=True
        ),
    )


def search_create(
    *,
    tenant: User,
    name: Any,
    description: Any = "",
    avatar: Any = "",
    search_config: Any = None,
) -> SearchApp:
    """A new search app; a name in use gets RAGFlow's `(1)` suffix."""
    clean = _check_name(name, limit=CREATE_NAME_LIMIT, period=True)
    config = default_search_config()
    if search_config is not None:
        config.update(copy.deepcopy(checked_config(search_config)))
    with transaction.atomic():
        # One creation per tenant at a time, so two identical names get different suffixes.
        User.objects.select_for_update().filter(pk=tenant.pk).first()
        return SearchApp.objects.create(
            tenant=tenant,
            name=_free_name(tenant, clean),
            description=_text(description, "description"),
            avatar=_text(avatar, "avatar"),
            search_config=config,
        )


def search_update(
    *,
    tenant: User,
    search_id: str,
    name: Any,
    search_config: Any,
    description: Any = None,
    avatar: Any = None,
) -> SearchApp:
    """Rename and reconfigure; `search_config` is merged one level deep into the stored one."""
    clean = _check_name(name, limit=UPDATE_NAME_LIMIT, period=False)
    with transaction.atomic():
        app = (
            SearchApp.objects.select_for_update()
            .filter(pk=search_id, tenant=tenant, status="1")
            .first()
        )
        if app is None:
            raise AuthenticationError("no authorization", data=False)
        if (
            clean.lower() != app.name.lower()
            and SearchApp.objects.filter(tenant=tenant, status="1", name=clean).exists()
        ):
            raise DataError("Duplicated search name.")
        app.search_config = {**(app.search_config or {}), **checked_config(search_config)}
        app.name = clean
        if description is not None:
            app.description = _text(description, "description")
        if avatar is not None:
            app.avatar = _text(avatar, "avatar")
        app.save()
    return app


def search_delete(*, tenant: User, search_id: str) -> None:
    deleted, _ = SearchApp.objects.filter(pk=search_id, tenant=tenant, status="1").delete()
    if not deleted:
        raise AuthenticationError("no authorization", data=False)


def search_datasets(tenant: User, app: SearchApp, fallback: Any = None) -> list[str]:
    """The datasets a search of `app` reads: its own, else `fallback` (the request's `kb_ids`).

    102 when there are none, or when one is not the caller's to read.
    """
    kb_ids = list(app.search_config.get("kb_ids") or [])
    if not kb_ids and isinstance(fallback, list):
        kb_ids = [str(k) for k in fallback if k]
    if not kb_ids:
        raise DataError("`kb_ids` is required.")
    visible = set(datasets_visible_to(tenant).filter(pk__in=kb_ids).values_list("pk", flat=True))
    for kb_id in kb_ids:
        if kb_id not in visible:
            raise DataError(f"You don't own the dataset {kb_id}")
    return kb_ids


def search_model_id(config: dict[str, Any]) -> str:
    """The chat model a search app answers with: its `chat_id`, else the default model."""
    model_id = str(config.get("chat_id") or "")
    if model_id and not chat_model_exists(model_id):
        raise DataError(f"Cannot use specified model {model_id}.")
    return model_id or default_chat_model_id()


def search_answer_context(tenant: User, app: SearchApp, kb_ids: list[str]) -> ChatContext:
    """What answering needs to summarise a search of `app` over `kb_ids` (RAGFlow's async_ask)."""
    config = app.search_config or {}
    setting = config.get("llm_setting") or {}
    return ChatContext(
        chat_id="",
        tenant=tenant,
        dataset_ids=kb_ids,
        llm_id=search_model_id(config),
        llm_setting={
            k: setting[k]
            for k in ("temperature", "top_p", "frequency_penalty", "presence_penalty")
            if isinstance(setting.get(k), int | float) and setting.get(f"{k}_enabled", True)
        },
        similarity_threshold=float(config.get("similarity_threshold", 0.1)),
        vector_similarity_weight=float(config.get("vector_similarity_weight", 0.3)),
        top_n=SEARCH_PAGE_SIZE,
        top_k=int(config.get("top_k", 1024)),
        rerank_id=str(config.get("rerank_id") or ""),
        prompt_config={
            "system": ASK_SUMMARY,
            "prologue": "",
            "parameters": [{"key": "knowledge", "optional": False}],
            "quote": True,
            "empty_response": "",
        },
    )


def search_prepare(
    *, tenant: User, search_id: str, kb_ids: Any = None
) -> tuple[ChatContext, dict[str, Any]]:
    """The answering context of a search of the caller's app `search_id` (109 for any other),
    checked before the first byte: datasets (102) and model (102)."""
    app = search_owned_or_raise(tenant, search_id)
    datasets = search_datasets(tenant, app, kb_ids)
    doc_ids = app.search_config.get("doc_ids") or []
    extra: dict[str, Any] = {"doc_ids": ",".join(doc_ids)} if doc_ids else {}
    return search_answer_context(tenant, app, datasets), extra


def search_retrieve(
    *, tenant: User, app: SearchApp, question: str, page_size: int
) -> Result | None:
    """The chunks the Search page lists for `question`, ranked with the app's settings and
    highlighted when the app says so (None: an empty question)."""
    config = app.search_config or {}
    return retrieval_run(
        user=tenant,
        request=RetrievalRequest(
            question=question,
            dataset_ids=search_datasets(tenant, app),
            document_ids=list(config.get("doc_ids") or []),
            page_size=page_size,
            similarity_threshold=float(config.get("similarity_threshold", 0.2)),
            vector_similarity_weight=float(config.get("vector_similarity_weight", 0.3)),
            top_k=int(config.get("top_k", 1024)),
            rerank_id=str(config.get("rerank_id") or "") or None,
            highlight=bool(config.get("highlight")),
        ),
    )
