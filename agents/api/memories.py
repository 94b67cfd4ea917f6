"""/api/v1/memories and /api/v1/messages (RAGFlow v0.27, contract v0.27 §3.10): thin DRF views
over agents.selectors and agents.services.memories. Success bodies carry `"message": true`."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from agents.api.schemas_memory import (
    MemoryCreateIn,
    MemoryListQuery,
    MemoryMessagesQuery,
    MessageAddIn,
    MessageSearchQuery,
    MessageStatusIn,
    RecentMessagesQuery,
    memory_changes,
)
from agents.models import Memory, MemoryMessage
from agents.models_memory import memory_type_flags
from agents.selectors import (
    MemoryFilters,
    agent_titles,
    memories_get_visible,
    memory_derived_messages,
    memory_get_or_raise,
    memory_list,
    memory_message_get_or_raise,
    memory_raw_messages,
    memory_recent_messages,
)
from agents.services import memories as services
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok_memory
from ragsite.api.formats import epoch_ms, rfc1123
from ragsite.api.parsing import json_body

# --- output -----------------------------------------------------------------------------------


def memory_out(memory: Memory, *, owner_name: bool = False) -> dict[str, Any]:
    """RAGFlow's format_ret_data_from_memory."""
    return {
        "id": memory.pk,
        "name": memory.name,
        "avatar": memory.avatar,
        "tenant_id": memory.tenant_id,
        "owner_name": memory.tenant.get_username() if owner_name else None,
        "memory_type": memory.type_names,
        "storage_type": memory.storage_type,
        "embd_id": memory.embd_id,
        "llm_id": memory.llm_id,
        "permissions": memory.permissions,
        "description": memory.description,
        "memory_size": memory.memory_size,
        "forgetting_policy": memory.forgetting_policy,
        "temperature": memory.temperature,
        "system_prompt": memory.system_prompt,
        "user_prompt": memory.user_prompt,
        "create_time": epoch_ms(memory.created_at),
        "create_date": rfc1123(memory.created_at),
        "update_time": epoch_ms(memory.updated_at),
        "update_date": rfc1123(memory.updated_at),
    }


def memory_row_out(memory: Memory) -> dict[str, Any]:
    """A row of GET /memories: the memory plus its owner and embedding model's name."""
    return {**memory_out(memory, owner_name=True), "embd_name": memory.embd_id}


def message_out(message: MemoryMessage, *, content: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message_id": message.pk,
        "message_type": message.message_type,
        "source_id": message.source_id or 0,
        "memory_id": message.memory_id,
        "user_id": message.user_id,
        "agent_id": message.agent_id,
        "session_id": message.session_id,
        "valid_at": services.message_moment(message.valid_at),
        "invalid_at": services.message_moment(message.invalid_at),
        "forget_at": services.message_moment(message.forget_at),
        "status": message.status,
    }
    if content:
        out["content"] = message.content
    return out


def _task_out(message: MemoryMessage) -> dict[str, Any]:
    if message.task_progress is None:
        return {}
    return {"progress": message.task_progress, "progress_msg": message.task_log}


# --- memories ---------------------------------------------------------------------------------


class MemoriesApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        values = MemoryCreateIn.from_body(json_body(request))
        memory = services.memory_create(
            tenant=request.user,
            name=values.name,
            memory_type=values.memory_type,
            embd_id=values.embd_id,
            llm_id=values.llm_id,
        )
        return Response(ok_memory(memory_out(memory)))

    def get(self, request: ApiRequest) -> Response:
        query = MemoryListQuery.from_query(request.query_params)
        filters = MemoryFilters(
            keywords=query.keywords,
            memory_types=memory_type_flags(query.memory_types),
            tenant_ids=tuple(query.tenant_ids),
            ids=tuple(query.ids),
            storage_type=query.storage_type,
        )
        if query.memory_types and not filters.memory_types:
            return Response(ok_memory({"memory_list": [], "total_count": 0}))
        memories = memory_list(request.user, filters)
        start = (query.page - 1) * query.page_size
        rows = [memory_row_out(m) for m in memories[start : start + query.page_size]]
        return Response(ok_memory({"memory_list": rows, "total_count": memories.count()}))


class MemoryApi(APIView):
    def put(self, request: ApiRequest, memory_id: str) -> Response:
        changes = memory_changes(json_body(request))
        memory = services.memory_update(user=request.user, memory_id=memory_id, changes=changes)
        return Response(ok_memory(memory_out(memory)))

    def delete(self, request: ApiRequest, memory_id: str) -> Response:
        services.memory_delete(user=request.user, memory_id=memory_id)
        return Response(ok_memory(None))

    def get(self, request: ApiRequest, memory_id: str) -> Response:
        """The memory's raw messages, each with what was extracted from it."""
        memory = memory_get_or_raise(request.user, memory_id)
        query = MemoryMessagesQuery.from_query(request.query_params)
        raws = memory_raw_messages(
            memory, agent_ids=query.agent_ids, session_keywords=query.keywords
        )
        start = (query.page - 1) * query.page_size
        page = list(raws[start : start + query.page_size])
        derived: dict[int, list[MemoryMessage]] = {}
        for message in memory_derived_messages(memory, [m.pk for m in page]):
            derived.setdefault(message.source_id or 0, []).append(message)
        titles = agent_titles(
            [memory.tenant_id, request.user.pk], [m.agent_id for m in page if m.agent_id]
        )
        items = []
        for raw in page:
            item = message_out(raw, content=False)
            item["agent_name"] = titles.get(raw.agent_id, "Unknown")
            item["task"] = _task_out(raw)
            item["extract"] = [
                {**message_out(d, content=False), "agent_name": titles.get(d.agent_id, "Unknown")}
                for d in derived.get(raw.pk, [])
            ]
            items.append(item)
        return Response(
            ok_memory(
                {
                    "messages": {"message_list": items, "total_count": raws.count()},
                    "storage_type": memory.storage_type,
                }
            )
        )


class MemoryConfigApi(APIView):
    def get(self, request: ApiRequest, memory_id: str) -> Response:
        memory = memory_get_or_raise(request.user, memory_id)
        return Response(ok_memory(memory_out(memory, owner_name=True)))


# --- messages ---------------------------------------------------------------------------------


class MessagesApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        values = MessageAddIn.from_body(json_body(request))
        note = services.message_add(
            user=request.user,
            memory_ids=values.memory_id,
            message=services.NewMessage(
                # Only API keys reach this API, so the caller's subject id is honoured.
                user_id=values.user_id or request.user.pk,
                agent_id=values.agent_id,
                session_id=values.session_id,
                user_input=values.user_input,
                agent_response=values.agent_response,
            ),
        )
        return Response(ok_memory(None, message=note))

    def get(self, request: ApiRequest) -> Response:
        query = RecentMessagesQuery.from_query(request.query_params)
        memories = memories_get_visible(request.user, query.memory_ids)
        messages = memory_recent_messages(
            memories, agent_id=query.agent_id, session_id=query.session_id, limit=query.limit
        )
        return Response(ok_memory([message_out(m) for m in messages]))


class MessageSearchApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        query = MessageSearchQuery.from_query(request.query_params)
        found = services.memory_search(
            memories=memories_get_visible(request.user, query.memory_ids),
            query=query.query,
            filters=services.SearchFilters(
                agent_id=query.agent_id, session_id=query.session_id, user_id=query.user_id
            ),
            similarity_threshold=query.similarity_threshold,
            vector_weight=query.keywords_similarity_weight,
            top_n=query.top_n,
        )
        return Response(
            ok_memory(
                [
                    {
                        **message_out(hit.message),
                        "similarity": round(hit.score, 6),
                        "vector_similarity": round(hit.vector_similarity, 6),
                        "term_similarity": round(hit.term_similarity, 6),
                    }
                    for hit in found
                ]
            )
        )


class MessageApi(APIView):
    def put(self, request: ApiRequest, memory_id: str, message_id: str) -> Response:
        values = MessageStatusIn.from_body(json_body(request))
        services.message_set_status(
            user=request.user, memory_id=memory_id, message_id=int(message_id), status=values.status
        )
        return Response(ok_memory(None))

    def delete(self, request: ApiRequest, memory_id: str, message_id: str) -> Response:
        services.message_forget(user=request.user, memory_id=memory_id, message_id=int(message_id))
        return Response(ok_memory(None))


class MessageContentApi(APIView):
    def get(self, request: ApiRequest, memory_id: str, message_id: str) -> Response:
        memory = memory_get_or_raise(request.user, memory_id)
        message = memory_message_get_or_raise(memory, int(message_id))
        embedding = [] if message.embedding is None else [float(x) for x in message.embedding]
        return Response(
            ok_memory(
                {
                    **message_out(message),
                    "id": f"{memory.pk}_{message.pk}",
                    "content_embed": embedding,
                }
            )
        )
