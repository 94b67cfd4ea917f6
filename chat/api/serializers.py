"""Chats and sessions under RAGFlow's public names (contract §5–§6)."""

from __future__ import annotations

from typing import Any

from chat.models import Chat, ChatSession
from chat.services.assistants import prompt_out
from chat.services.sessions import messages_with_references
from knowledge.models import Dataset
from ragsite.api.formats import epoch_ms, rfc1123


def _times(obj: Chat | ChatSession) -> dict[str, Any]:
    return {
        "create_time": epoch_ms(obj.created_at),
        "create_date": rfc1123(obj.created_at),
        "update_time": epoch_ms(obj.updated_at),
        "update_date": rfc1123(obj.updated_at),
    }


def chat_out(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.pk,
        "name": chat.name,
        "avatar": chat.avatar,
        "description": chat.description,
        "language": chat.language,
        "tenant_id": chat.tenant_id,
        "status": chat.status,
        "prompt_type": chat.prompt_type,
        "do_refer": chat.do_refer,
        "meta_data_filter": chat.meta_data_filter,
        "dataset_ids": list(chat.dataset_ids),
        "llm": {"model_name": chat.llm_id or None, **chat.llm_setting},
        "prompt": prompt_out(chat),
        "top_k": chat.top_k,
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


def chat_list_out(chat: Chat, datasets: dict[str, Dataset]) -> dict[str, Any]:
    out = chat_out(chat)
    out["datasets"] = [dataset_row(datasets[i]) for i in chat.dataset_ids if i in datasets]
    out["dataset_ids"] = [i for i in chat.dataset_ids if i in datasets]
    return out


def session_out(session: ChatSession, *, with_references: bool = False) -> dict[str, Any]:
    return {
        "id": session.pk,
        "chat_id": session.chat_id,
        "name": session.name,
        "user_id": session.user_id,
        "messages": messages_with_references(session) if with_references else session.messages,
        **_times(session),
    }
