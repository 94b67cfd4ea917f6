"""Request models of /api/v1/memories and /api/v1/messages (RAGFlow v0.27, contract §3.10).

Query-string id lists come repeated (`?memory_id=a&memory_id=b`, what ragflow-sdk sends) or
comma-separated; both are read. Bodies ignore unknown keys, as RAGFlow does. Problems are 101.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.http import QueryDict
from pydantic import BaseModel, ConfigDict, ValidationError

from ragsite.api.errors import ArgumentError
from ragsite.api.parsing import lenient_float, lenient_int, validation_message

M = TypeVar("M", bound=BaseModel)
MAX_IDS = 100
MAX_PAGE_SIZE = 100


def _required(body: dict[str, Any], *keys: str) -> None:
    """RAGFlow's `validate_request`: every key must be present."""
    missing = [key for key in keys if key not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")


def _parsed(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["loc"]:
            raise ArgumentError(f"`{first['loc'][0]}` should be a string.") from exc
        raise ArgumentError(validation_message(exc)) from exc


def id_list(query: QueryDict, key: str) -> list[str]:
    """Repeated or comma-separated ids, at most 100 (101 otherwise)."""
    values: list[str] = []
    for raw in query.getlist(key):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    if len(values) > MAX_IDS:
        raise ArgumentError(f"{key} must contain at most {MAX_IDS} IDs")
    return list(dict.fromkeys(values))


def _page(value: str | None) -> int:
    try:
        page = int(value) if value is not None else 1
    except ValueError:
        return 1
    return max(page, 1)


def _size(value: str | None, default: int, name: str = "page_size") -> int:
    """RAGFlow's validate_rest_api_page_size: bad or < 1 is the default, > 100 is 101."""
    try:
        size = int(value) if value is not None else default
    except ValueError:
        return default
    if size < 1:
        return default
    if size > MAX_PAGE_SIZE:
        raise ArgumentError(f"{name} must be less than or equal to {MAX_PAGE_SIZE}")
    return size


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MemoryCreateIn(_Body):
    name: Any
    memory_type: Any
    embd_id: str
    llm_id: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        _required(body, "name", "memory_type", "embd_id", "llm_id")
        return _parsed(cls, body)


UPDATABLE = (
    "name", "permissions", "llm_id", "embd_id", "memory_type", "memory_size",
    "forgetting_policy", "temperature", "avatar", "description", "system_prompt", "user_prompt",
)  # fmt: skip


def memory_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The keys of a PUT /memories/{id} RAGFlow reads; the service checks each value."""
    return {key: body[key] for key in UPDATABLE if key in body}


class MemoryListQuery(BaseModel):
    page: int
    page_size: int
    keywords: str
    memory_types: list[str]
    tenant_ids: list[str]
    ids: list[str]
    storage_type: str

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        return cls(
            page=_page(query.get("page")),
            page_size=_size(query.get("page_size"), 30),
            keywords=(query.get("keywords") or "").strip(),
            memory_types=id_list(query, "memory_type"),
            tenant_ids=id_list(query, "tenant_id") or id_list(query, "owner_ids"),
            ids=id_list(query, "ids"),
            storage_type=(query.get("storage_type") or "").strip(),
        )


class MemoryMessagesQuery(BaseModel):
    agent_ids: list[str]
    keywords: str
    page: int
    page_size: int

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        return cls(
            agent_ids=id_list(query, "agent_id"),
            keywords=(query.get("keywords") or "").strip(),
            page=_page(query.get("page")),
            page_size=_size(query.get("page_size"), 50),
        )


class MessageAddIn(_Body):
    memory_id: list[str]
    agent_id: str
    session_id: str
    user_input: str
    agent_response: str
    user_id: str = ""

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        _required(body, "memory_id", "agent_id", "session_id", "user_input", "agent_response")
        values = dict(body)
        if isinstance(values["memory_id"], str):
            values["memory_id"] = [values["memory_id"]]
        if values.get("user_id") is None:
            values["user_id"] = ""
        if isinstance(values["memory_id"], list) and len(values["memory_id"]) > MAX_IDS:
            raise ArgumentError(f"memory_id must contain at most {MAX_IDS} IDs")
        try:
            return cls.model_validate(values, strict=True)
        except ValidationError as exc:
            field = exc.errors()[0]["loc"][0]
            wanted = "a list of ids" if field == "memory_id" else "a string"
            raise ArgumentError(f"`{field}` should be {wanted}.") from exc


class MessageSearchQuery(BaseModel):
    memory_ids: list[str]
    query: str
    similarity_threshold: float
    keywords_similarity_weight: float
    top_n: int
    agent_id: str
    session_id: str
    user_id: str

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        top_n = lenient_int(query.get("top_n"), 5, name="top_n")
        if top_n > MAX_PAGE_SIZE:
            raise ArgumentError(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
        threshold = lenient_float(
            query.get("similarity_threshold"), 0.2, name="similarity_threshold"
        )
        weight = lenient_float(
            query.get("keywords_similarity_weight"), 0.7, name="keywords_similarity_weight"
        )
        if not 0 <= weight <= 1:
            raise ArgumentError("`keywords_similarity_weight` should be in range [0, 1].")
        return cls(
            memory_ids=id_list(query, "memory_id"),
            query=query.get("query") or "",
            similarity_threshold=threshold,
            keywords_similarity_weight=weight,
            top_n=top_n if top_n >= 1 else 5,
            agent_id=query.get("agent_id") or "",
            session_id=query.get("session_id") or "",
            user_id=query.get("user_id") or "",
        )


class RecentMessagesQuery(BaseModel):
    memory_ids: list[str]
    agent_id: str
    session_id: str
    limit: int

    @classmethod
    def from_query(cls, query: QueryDict) -> Self:
        memory_ids = id_list(query, "memory_id")
        limit = lenient_int(query.get("limit"), 10, name="limit")
        if limit > MAX_PAGE_SIZE:
            raise ArgumentError(f"page_size must be less than or equal to {MAX_PAGE_SIZE}")
        if not memory_ids:
            raise ArgumentError("memory_ids is required.")
        return cls(
            memory_ids=memory_ids,
            agent_id=query.get("agent_id") or "",
            session_id=query.get("session_id") or "",
            limit=limit if limit >= 1 else 10,
        )


class MessageStatusIn(_Body):
    status: bool

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        _required(body, "status")
        if not isinstance(body["status"], bool):
            raise ArgumentError("Status must be a boolean.")
        return cls(status=body["status"])
