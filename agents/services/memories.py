"""Memories and their messages (RAGFlow v0.27 `/memories`, `/messages`; contract v0.27 §3.10).

A message added to a memory is stored at once as one `raw` message, embedded with the memory's
embedding model. Deriving `semantic`, `episodic` and `procedural` messages from it takes the
memory's chat model and runs in a Celery task (`agents.extract_memory_message`), whose progress
the raw message keeps (`task_progress`, `task_log`). Without a chat model that can answer (the
built-in extractive model only quotes passages), nothing is derived and the log says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from agents import memory_prompts as prompts
from agents.models import Memory, MemoryMessage
from agents.models_memory import (
    MEMORY_NAME_LIMIT,
    MEMORY_SIZE_LIMIT,
    MEMORY_TYPES,
    memory_type_flags,
    memory_type_names,
)
from agents.selectors import (
    MemoryMessageNotFound,
    memories_get_visible,
    memory_get_or_raise,
    memory_message_get_or_raise,
)
from chat.llm.registry import BUILTIN_EXTRACTIVE, chat_model_exists
from knowledge import fulltext
from knowledge.embeddings import EmbeddingError, embed_query, embed_texts
from knowledge.enrichment.llm import ChatModelConfig, LLMError, complete
from knowledge.model_registry import embedding_model_check, provider_for
from knowledge.retrieval import memory_message_candidates
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import ArgumentError, ServiceError
from ragsite.names import free_name

logger = logging.getLogger(__name__)

PERMISSIONS = ("me", "team")
FORGETTING_POLICIES = ("FIFO",)
STAMP = "%Y-%m-%d %H:%M:%S"
NO_CHAT_MODEL = (
    "No extraction: the memory's chat model {model} cannot extract memories (configure an "
    "OpenAI-compatible provider with a chat model under Admin → Model providers and choose it "
    "in the memory's settings); only the raw message was stored."
)


def stamp(message: str) -> str:
    return f"{timezone.now().strftime(STAMP)} {message}"


# --- memories ---------------------------------------------------------------------------------


def _checked_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ArgumentError("Memory name cannot be empty or whitespace.")
    clean = name.strip()
    if not clean:
        raise ArgumentError("Memory name cannot be empty or whitespace.")
    if len(clean) > MEMORY_NAME_LIMIT:
        raise ArgumentError(f"Memory name '{clean}' exceeds limit of {MEMORY_NAME_LIMIT}.")
    return clean


def _checked_types(memory_type: Any) -> list[str]:
    if not isinstance(memory_type, list):
        raise ArgumentError("Memory type must be a list.")
    if not all(isinstance(t, str) for t in memory_type):
        raise ArgumentError(f"Memory type '{set(map(str, memory_type))}' is not supported.")
    invalid = set(memory_type) - set(MEMORY_TYPES)
    if invalid:
        raise ArgumentError(f"Memory type '{invalid}' is not supported.")
    return [t for t in MEMORY_TYPES if t in memory_type]


def _checked_chat_model(llm_id: Any) -> str:
    if not isinstance(llm_id, str) or not llm_id.strip():
        raise ArgumentError("`llm_id` should be a non-empty string.")
    if not chat_model_exists(llm_id):
        raise ArgumentError(f"Unsupported model: <{llm_id}>")
    return llm_id


def _checked_embedding_model(embd_id: Any) -> str:
    if not isinstance(embd_id, str) or not embd_id.strip():
        raise ArgumentError("`embd_id` should be a non-empty string.")
    embedding_model_check(embd_id)
    return embd_id


def _free_name(tenant: User, name: str) -> str:
    """RAGFlow's `duplicate_name`: `name`, else `name(1)`, `name(2)`, …"""
    return free_name(
        name,
        Memory.objects.filter(tenant=tenant, name__startswith=name).values_list("name", flat=True),
    )


def memory_create(
    *, tenant: User, name: Any, memory_type: Any, embd_id: Any, llm_id: Any
) -> Memory:
    """A new memory of `tenant`; argument problems are 101 with RAGFlow's messages."""
    clean = _checked_name(name)
    types = _checked_types(memory_type)
    embd = _checked_embedding_model(embd_id)
    llm = _checked_chat_model(llm_id)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Memory.objects.create(
                    tenant=tenant,
                    name=_free_name(tenant, clean),
                    memory_type=memory_type_flags(types),
                    embd_id=embd,
                    llm_id=llm,
                    system_prompt=prompts.system_prompt(types),
                )
        except IntegrityError:
            continue  # a concurrent create took the name: pick the next free one
    raise ServiceError("Internal server error", code=RetCode.SERVER_ERROR)


def memory_size_used(memory: Memory) -> int:
    """What the memory's messages count against its size limit (forgotten ones included)."""
    return int(memory.messages.aggregate(total=Sum("size"))["total"] or 0)


def memory_update(*, user: User, memory_id: str, changes: dict[str, Any]) -> Memory:
    """RAGFlow's update_memory: validate, keep what differs, refuse model and type changes of
    a memory that holds messages, rebuild a default system prompt when the types change."""
    memory = memory_get_or_raise(user, memory_id)
    wanted: dict[str, Any] = {}
    if "name" in changes:
        wanted["name"] = _checked_name(changes["name"])
    if changes.get("permissions"):
        if changes["permissions"] not in PERMISSIONS:
            raise ArgumentError(f"Unknown permission '{changes['permissions']}'.")
        wanted["permissions"] = changes["permissions"]
    if changes.get("llm_id"):
        wanted["llm_id"] = _checked_chat_model(changes["llm_id"])
    if changes.get("embd_id"):
        wanted["embd_id"] = _checked_embedding_model(changes["embd_id"])
    if changes.get("memory_type"):
        wanted["memory_type"] = memory_type_flags(_checked_types(changes["memory_type"]))
    if changes.get("memory_size"):
        size = changes["memory_size"]
        if isinstance(size, bool) or not isinstance(size, int | float | str):
            raise ArgumentError(f"Memory size should be in range (0, {MEMORY_SIZE_LIMIT}] Bytes.")
        try:
            number = int(size)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ArgumentError(
                f"Memory size should be in range (0, {MEMORY_SIZE_LIMIT}] Bytes."
            ) from exc
        if not 0 < number <= MEMORY_SIZE_LIMIT:
            raise ArgumentError(f"Memory size should be in range (0, {MEMORY_SIZE_LIMIT}] Bytes.")
        wanted["memory_size"] = number
    if changes.get("forgetting_policy"):
        if changes["forgetting_policy"] not in FORGETTING_POLICIES:
            raise ArgumentError(
                f"Forgetting policy '{changes['forgetting_policy']}' is not supported."
            )
        wanted["forgetting_policy"] = changes["forgetting_policy"]
    if "temperature" in changes:
        value = changes["temperature"]
        try:
            temperature = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError, OverflowError):
            temperature = float("nan")
        if not 0 <= temperature <= 1:
            raise ArgumentError("Temperature should be in range [0, 1].")
        wanted["temperature"] = temperature
    for key in ("avatar", "description", "system_prompt", "user_prompt"):
        if key in changes:
            value = changes[key]
            if value is not None and not isinstance(value, str):
                raise ArgumentError(f"`{key}` should be a string.")
            wanted[key] = "" if key == "system_prompt" and value is None else value
    differing = {k: v for k, v in wanted.items() if getattr(memory, k) != v}
    if not differing:
        return memory
    blocked = [k for k in ("embd_id", "memory_type") if k in differing]
    if blocked and memory_size_used(memory) > 0:
        raise ArgumentError(f"Can't update {blocked} when memory isn't empty.")
    if (
        "memory_type" in differing
        and "system_prompt" not in differing
        and prompts.is_default_prompt(memory.system_prompt, memory.type_names)
    ):
        differing["system_prompt"] = prompts.system_prompt(
            memory_type_names(differing["memory_type"])
        )
    if "name" in differing:
        others = Memory.objects.filter(tenant=memory.tenant_id).exclude(pk=memory.pk)
        if others.filter(name=differing["name"]).exists():
            raise ServiceError(
                f"Memory name '{differing['name']}' already exists.", code=RetCode.CONFLICT
            )
    for key, value in differing.items():
        setattr(memory, key, value)
    memory.save(update_fields=[*differing, "updated_at"])
    return memory


def memory_delete(*, user: User, memory_id: str) -> None:
    """Delete a memory the caller may manage, with its messages."""
    memory_get_or_raise(user, memory_id).delete()


# --- messages ---------------------------------------------------------------------------------


def _embedding(model_id: str, texts: Sequence[str]) -> list[list[float]]:
    return [[float(x) for x in row] for row in embed_texts(model_id, list(texts))]


def _size_of(content: str, dimensions: int) -> int:
    return len(content.encode("utf-8")) + 8 * dimensions


def _store(memory: Memory, rows: list[dict[str, Any]]) -> list[MemoryMessage]:
    """Embed and save `rows`, forgetting the oldest messages first (FIFO) when the memory
    would outgrow its size limit."""
    vectors = _embedding(memory.embd_id, [row["content"] for row in rows])
    messages = []
    for row, vector in zip(rows, vectors, strict=True):
        content = row["content"]
        messages.append(
            MemoryMessage(
                memory=memory,
                content_ltks=fulltext.segment(content),
                embedding=vector,
                embedding_dim=len(vector),
                size=_size_of(content, len(vector)),
                **row,
            )
        )
    incoming = sum(m.size for m in messages)
    with transaction.atomic():
        Memory.objects.select_for_update().filter(pk=memory.pk).first()
        excess = memory_size_used(memory) + incoming - memory.memory_size
        if excess > 0:
            _forget_oldest(memory, excess)
        saved = MemoryMessage.objects.bulk_create(messages)
        MemoryMessage.objects.filter(pk__in=[m.pk for m in saved]).update(
            search_vector=SearchVector("content_ltks", config="simple")
        )
    return saved


def _forget_oldest(memory: Memory, excess: int) -> None:
    """FIFO: delete forgotten messages first, then the oldest, until `excess` bytes are free."""
    freed = 0
    doomed: list[int] = []
    rows = (
        MemoryMessage.objects.filter(memory=memory)
        .order_by(F("forget_at").asc(nulls_last=True), "valid_at", "message_id")
        .values_list("message_id", "size")
    )
    for message_id, size in rows.iterator():
        if freed >= excess:
            break
        doomed.append(message_id)
        freed += size
    MemoryMessage.objects.filter(pk__in=doomed).delete()


@dataclass(frozen=True)
class NewMessage:
    user_id: str
    agent_id: str
    session_id: str
    user_input: str
    agent_response: str


def message_add(*, user: User, memory_ids: Sequence[str], message: NewMessage) -> str:
    """Store the turn as a raw message in every memory named and queue its extraction.

    RAGFlow's answer: "All add to task." on success, else code 500 with
    "Some messages failed to add. Detail:<detail>" (missing memories named in the detail).
    """
    visible = memories_get_visible(user, list(memory_ids))
    if not visible:
        raise ServiceError(
            "Some messages failed to add. Detail:Memory not found.", code=RetCode.SERVER_ERROR
        )
    found = {m.pk for m in visible}
    missing = [i for i in dict.fromkeys(memory_ids) if i not in found]
    failed: list[str] = []
    content = prompts.conversation(message.user_input, message.agent_response)
    for memory in visible:
        try:
            (raw,) = _store(
                memory,
                [
                    {
                        "message_type": "raw",
                        "user_id": message.user_id,
                        "agent_id": message.agent_id,
                        "session_id": message.session_id,
                        "content": content,
                        "valid_at": timezone.now(),
                        "task_progress": 0.0,
                        "task_log": stamp("Queued for extraction."),
                    }
                ],
            )
        except EmbeddingError as exc:
            failed.append(f"Memory {memory.pk} failed. Detail: {exc}")
            continue
        transaction.on_commit(partial(_dispatch, raw.pk))
    detail = ""
    if missing:
        detail = f"Memory {missing} not found."
    detail += "".join(failed)
    if detail:
        raise ServiceError(
            "Some messages failed to add. Detail:" + detail, code=RetCode.SERVER_ERROR
        )
    return "All add to task."


def _dispatch(message_id: int) -> None:
    from agents.tasks import extract_memory_message_task

    try:
        extract_memory_message_task.delay(message_id)
    except Exception:  # noqa: BLE001 - a broker outage leaves the raw message stored
        logger.warning("the task queue is unreachable; message %s is not extracted", message_id)
        MemoryMessage.objects.filter(pk=message_id).update(
            task_progress=-1.0, task_log=stamp("The task queue is unreachable; not extracted.")
        )


def _progress(message: MemoryMessage, progress: float, note: str) -> None:
    message.task_progress = progress
    message.task_log = f"{message.task_log}\n{stamp(note)}".strip()
    MemoryMessage.objects.filter(pk=message.pk).update(
        task_progress=progress, task_log=message.task_log
    )


def extraction_model(memory: Memory) -> ChatModelConfig | None:
    """The memory's chat model when it can extract (a provider's model), else None."""
    if memory.llm_id == BUILTIN_EXTRACTIVE:
        return None
    provider = provider_for(memory.llm_id, "chat")
    if provider is None:
        return None
    return ChatModelConfig(
        model_id=memory.llm_id,
        base_url=provider.base_url,
        api_key=provider.api_key,
        timeout=provider.timeout_seconds,
    )


def message_extract(*, message_id: int) -> str:
    """Derive the memory's enabled types from raw message `message_id` with its chat model
    (RAGFlow's handle_save_to_memory_task); returns the last progress note."""
    raw = MemoryMessage.objects.select_related("memory").filter(pk=message_id).first()
    if raw is None or raw.message_type != "raw":
        return f"Message {message_id} not found."
    memory = raw.memory
    types = prompts.extracted_types(memory.type_names)
    if not types:
        note = f"Memory '{memory.pk}' don't need to extract."
        _progress(raw, 1.0, note)
        return note
    config = extraction_model(memory)
    if config is None:
        note = NO_CHAT_MODEL.format(model=memory.llm_id)
        _progress(raw, 1.0, note)
        return note
    _progress(raw, 0.15, "Prepared prompts and LLM.")
    now = timezone.now()
    user = memory.user_prompt or ""
    moment = now.strftime(STAMP)
    messages = [{"role": "system", "content": memory.system_prompt or prompts.system_prompt(types)}]
    if user:
        messages.append({"role": "user", "content": user})
        messages.append(
            {
                "role": "user",
                "content": f"Conversation: {raw.content}\nConversation Time: {moment}\n"
                f"Current Time: {moment}",
            }
        )
    else:
        messages.append({"role": "user", "content": prompts.user_prompt(raw.content, moment)})
    try:
        answer = complete(config, messages, max_tokens=1024, temperature=memory.temperature)
    except LLMError as exc:
        note = f"Extraction failed: {exc}"
        _progress(raw, -1.0, note)
        return note
    _progress(raw, 0.35, "Get extracted result from LLM.")
    items = prompts.extracted_items(prompts.parse_answer(answer.text), memory.type_names, now)
    if not items:
        note = "No memory extracted from raw message."
        _progress(raw, 1.0, note)
        return note
    _progress(raw, 0.5, f"Extracted {len(items)} messages from raw dialogue.")
    rows = [
        {
            "message_type": item["message_type"],
            "source_id": raw.pk,
            "user_id": raw.user_id,
            "agent_id": raw.agent_id,
            "session_id": raw.session_id,
            "content": item["content"],
            "valid_at": item["valid_at"],
            "invalid_at": item["invalid_at"],
        }
        for item in items
    ]
    try:
        _store(memory, rows)
    except EmbeddingError as exc:
        note = f"Embedding failed: {exc}"
        _progress(raw, -1.0, note)
        return note
    note = "Message saved successfully."
    _progress(raw, 1.0, note)
    return note


def message_forget(*, user: User, memory_id: str, message_id: int) -> None:
    """Soft forget: the message stays listed but is no longer searched or recent."""
    message = memory_message_get_or_raise(memory_get_or_raise(user, memory_id), message_id)
    MemoryMessage.objects.filter(pk=message.pk).update(forget_at=timezone.now())


def message_set_status(*, user: User, memory_id: str, message_id: int, status: bool) -> None:
    message = memory_message_get_or_raise(memory_get_or_raise(user, memory_id), message_id)
    MemoryMessage.objects.filter(pk=message.pk).update(status=status)


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    agent_id: str = ""
    session_id: str = ""
    user_id: str = ""


@dataclass(frozen=True)
class ScoredMessage:
    message: MemoryMessage
    score: float
    vector_similarity: float
    term_similarity: float


_TERM = re.compile(r"\S+")


def _term_similarity(terms: Sequence[str], segmented: str) -> float:
    if not terms:
        return 0.0
    present = set(_TERM.findall(segmented))
    return sum(1 for t in terms if t in present) / len(terms)


def memory_search(
    *,
    memories: Sequence[Memory],
    query: str,
    filters: SearchFilters,
    similarity_threshold: float,
    vector_weight: float,
    top_n: int,
) -> list[ScoredMessage]:
    """Enabled, unforgotten messages of `memories` best matching `query`, best first.

    Hybrid, as RAGFlow's memory search: the score is `vector_weight` × cosine (with the
    embedding model of the memory; memories with another model are searched with theirs) plus
    (1 − `vector_weight`) × the share of the query's terms the message holds. Messages under
    `similarity_threshold` are left out.
    """
    if not memories or not query.strip() or top_n <= 0:
        return []
    terms = fulltext.query_terms(query)
    by_model: dict[str, list[str]] = {}
    for memory in memories:
        by_model.setdefault(memory.embd_id, []).append(memory.pk)
    cosines: dict[int, float] = {}
    for model_id, memory_ids in by_model.items():
        try:
            vector: list[float] | None = [float(x) for x in embed_query(model_id, query)]
        except EmbeddingError:
            vector = None
        cosines.update(
            memory_message_candidates(
                memory_ids,
                embedding=vector,
                terms=terms,
                filters={
                    "agent_id": filters.agent_id,
                    "session_id": filters.session_id,
                    "user_id": filters.user_id,
                },
                limit=max(top_n * 4, 32),
            )
        )
    if not cosines:
        return []
    rows = MemoryMessage.objects.filter(pk__in=list(cosines))
    scored = []
    for message in rows:
        cosine = cosines[message.pk]
        term = _term_similarity(terms, message.content_ltks)
        score = vector_weight * cosine + (1 - vector_weight) * term
        if score >= similarity_threshold:
            scored.append(ScoredMessage(message, score, cosine, term))
    scored.sort(key=lambda s: (-s.score, -s.message.pk))
    return scored[:top_n]


def message_moment(value: datetime | None) -> str | None:
    """RAGFlow's message timestamps: local "YYYY-MM-DD HH:MM:SS"."""
    return None if value is None else timezone.localtime(value).strftime(STAMP)


__all__ = [
    "MemoryMessageNotFound",
    "NewMessage",
    "SearchFilters",
    "memory_create",
    "memory_delete",
    "memory_search",
    "memory_update",
    "message_add",
    "message_extract",
    "message_forget",
    "message_set_status",
]
