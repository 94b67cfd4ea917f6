"""Chats and sessions as RAGFlow shows them, in both generations' names (contract §5–§6, R3/R4)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chat.models import DEFAULT_LLM_SETTING, Chat, ChatSession, SearchApp
from chat.services.assistants import prompt_out
from chat.services.sessions import messages_with_references
from knowledge.models import Dataset
from ragsite.api.formats import epoch_ms, rfc1123


def _times(obj: Chat | ChatSession | SearchApp) -> dict[str, Any]:
    return {
        "create_time": epoch_ms(obj.created_at),
        "create_date": rfc1123(obj.created_at),
        "update_time": epoch_ms(obj.updated_at),
        "update_date": rfc1123(obj.updated_at),
    }


def datasets_of(chats: Iterable[Chat]) -> dict[str, Dataset]:
    """The datasets the chats name, by id (a deleted one is simply absent)."""
    wanted = {i for chat in chats for i in chat.dataset_ids}
    return {d.pk: d for d in Dataset.objects.filter(pk__in=wanted)} if wanted else {}


def chat_out(chat: Chat, datasets: dict[str, Dataset] | None = None) -> dict[str, Any]:
    """A chat in both generations' names at once (contract R3): no key means two things."""
    if datasets is None:
        datasets = datasets_of([chat])
    dataset_ids = [i for i in chat.dataset_ids if i in datasets]
    return {
        "id": chat.pk,
        "name": chat.name,
        "description": chat.description,
        "language": chat.language,
        "tenant_id": chat.tenant_id,
        "status": chat.status,
        "prompt_type": chat.prompt_type,
        "do_refer": chat.do_refer,
        "meta_data_filter": chat.meta_data_filter,
        "dataset_ids": dataset_ids,
        # v0.22
        "datasets": [dataset_row(datasets[i]) for i in dataset_ids],
        "avatar": chat.avatar,
        "llm": {"model_name": chat.llm_id or None, **DEFAULT_LLM_SETTING, **chat.llm_setting},
        "prompt": prompt_out(chat),
        # v0.27
        "kb_names": [datasets[i].name for i in dataset_ids],
        "icon": chat.avatar,
        "llm_id": chat.llm_id,
        "tenant_llm_id": None,
        "llm_setting": chat.llm_setting,
        "prompt_config": chat.prompt_config,
        "similarity_threshold": chat.similarity_threshold,
        "vector_similarity_weight": chat.vector_similarity_weight,
        "top_n": chat.top_n,
        "top_k": chat.top_k,
        "rerank_id": chat.rerank_id,
        "tenant_rerank_id": None,
        **_times(chat),
    }


def dataset_row(dataset: Dataset) -> dict[str, Any]:
    """A dataset under RAGFlow's internal column names, as list chats reports `datasets`."""
    return {
        "id": dataset.pk,
        "name": dataset.name,
        "avatar": dataset.avatar,
        "description": dataset.description,
        "tenant_id": dataset.tenant_id,
        "created_by": dataset.tenant_id,
        "language": dataset.language,
        "embd_id": dataset.embedding_model,
        "permission": dataset.permission,
        "parser_id": dataset.chunk_method,
        "parser_config": dataset.parser_config,
        "doc_num": dataset.document_count,
        "chunk_num": dataset.chunk_count,
        "token_num": dataset.token_count,
        "similarity_threshold": dataset.similarity_threshold,
        "vector_similarity_weight": dataset.vector_similarity_weight,
        "pagerank": dataset.pagerank,
        "status": "1",
        **_times(dataset),  # type: ignore[arg-type]
    }


def session_out(
    session: ChatSession, *, with_references: bool = True, avatar: str | None = None
) -> dict[str, Any]:
    """A session in both generations' shapes (contract R4): each answer with the chunks it was
    given (v0.22), and the stored references as one list (v0.27)."""
    out = {
        "id": session.pk,
        "chat_id": session.chat_id,
        "name": session.name,
        "user_id": session.user_id,
        "messages": messages_with_references(session) if with_references else session.messages,
        "reference": session.references,
        **_times(session),
    }
    if avatar is not None:
        out["avatar"] = avatar
    return out


def search_out(app: SearchApp, *, listing: bool = False) -> dict[str, Any]:
    """A search app as RAGFlow shows it: its columns, the owner's nickname and avatar, and
    (except in lists, which leave it out) `search_config`."""
    owner = app.tenant
    out: dict[str, Any] = {
        "id": app.pk,
        "avatar": app.avatar,
        "tenant_id": app.tenant_id,
        "name": app.name,
        "description": app.description,
        "created_by": app.tenant_id,
        "status": app.status,
        "nickname": owner.get_username(),
        "tenant_avatar": None,
        **_times(app),
    }
    if not listing:
        out["search_config"] = app.search_config
    return out
