"""Chat assistants: create, update, delete, list (contract §5), API names ↔ storage names."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from chat.llm.registry import chat_model_exists, default_chat_model_id
from chat.models import DEFAULT_LLM_SETTING, Chat, default_prompt_config
from knowledge import model_registry
from knowledge.models import Dataset
from knowledge.selectors import dataset_get_visible
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import DataError, ServiceError

# API `prompt` keys stored under another name inside prompt_config.
PROMPT_RENAMES = {
    "prompt": "system",
    "opener": "prologue",
    "variables": "parameters",
    "show_quote": "quote",
}
# API `prompt` keys stored as columns of the chat rather than in prompt_config.
PROMPT_COLUMNS = {
    "similarity_threshold": "similarity_threshold",
    "keywords_similarity_weight": "vector_similarity_weight",
    "top_n": "top_n",
    "top_k": "top_k",
    "rerank_model": "rerank_id",
}


def _live(tenant: User) -> QuerySet[Chat]:
    return Chat.objects.filter(tenant=tenant, status="1")


def _check_datasets(tenant: User, dataset_ids: Any) -> list[str]:
    if not isinstance(dataset_ids, list):
        raise DataError("`dataset_ids` should be a list")
    datasets: list[Dataset] = []
    for dataset_id in dataset_ids:
        if not dataset_id:
            continue
        dataset = dataset_get_visible(tenant, str(dataset_id))
        if dataset is None:
            raise DataError(f"You don't own the dataset {dataset_id}")
        if dataset.chunk_count <= 0:
            raise DataError(f"The dataset {dataset_id} doesn't own parsed file")
        datasets.append(dataset)
    if len({d.embedding_model.rsplit("@", 1)[0] for d in datasets}) > 1:
        raise ServiceError(
            'Datasets use different embedding models."', code=RetCode.AUTHENTICATION_ERROR
        )
    return [d.pk for d in datasets]


def _check_model(model_name: Any) -> None:
    if model_name is not None and not (
        isinstance(model_name, str) and chat_model_exists(model_name)
    ):
        raise DataError(f"`model_name` {model_name} doesn't exist")


def _check_rerank(rerank: Any) -> None:
    if rerank and model_registry.provider_for(str(rerank), "rerank") is None:
        raise DataError(f"`rerank_model` {rerank} doesn't exist")


def _check_parameters(config: dict[str, Any]) -> None:
    system = str(config.get("system") or "")
    for parameter in config.get("parameters") or []:
        if not isinstance(parameter, dict) or parameter.get("optional"):
            continue
        key = parameter.get("key")
        if key and f"{{{key}}}" not in system:
            raise DataError(f"Parameter '{key}' is not used")


def _split_prompt(prompt: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """API `prompt` → (column values, prompt_config values)."""
    columns: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for key, value in prompt.items():
        if key in PROMPT_COLUMNS:
            columns[PROMPT_COLUMNS[key]] = value
        else:
            config[PROMPT_RENAMES.get(key, key)] = value
    return columns, config


def _apply_columns(chat: Chat, columns: dict[str, Any]) -> list[str]:
    """Set the prompt's column values on `chat`; returns the columns set."""
    for column, value in columns.items():
        if column == "rerank_id":
            _check_rerank(value)
            value = value or ""
        elif column in ("top_n", "top_k"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise DataError(f"`{column}` should be a non-negative integer")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise DataError(f"`{column}` should be a number")
        setattr(chat, column, value)
    return list(columns)


def chat_create(*, tenant: User, body: dict[str, Any]) -> Chat:
    """Validate in RAGFlow's order and create the assistant."""
    dataset_ids = _check_datasets(tenant, body.get("dataset_ids") or [])
    llm = body.get("llm") or {}
    if not isinstance(llm, dict):
        raise DataError("`llm` should be an object")
    _check_model(llm.get("model_name"))
    prompt = body.get("prompt") or {}
    if not isinstance(prompt, dict):
        raise DataError("`prompt` should be an object")
    _check_rerank(prompt.get("rerank_model"))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError("`name` is required.")
    name = name.strip()
    if _live(tenant).filter(name__iexact=name).exists():
        raise DataError("Duplicated chat name in creating chat.")
    if "tenant_id" in body:
        raise DataError("`tenant_id` must not be provided.")

    columns, config = _split_prompt(prompt)
    prompt_config = default_prompt_config()
    prompt_config.update(config)
    if not prompt_config.get("system"):
        prompt_config["system"] = default_prompt_config()["system"]
    _check_parameters(prompt_config)

    chat = Chat(
        tenant=tenant,
        name=name,
        avatar=str(body.get("avatar") or ""),
        description=str(body.get("description") or "A helpful Assistant"),
        dataset_ids=dataset_ids,
        llm_id=llm.get("model_name") or default_chat_model_id(),
        llm_setting={**DEFAULT_LLM_SETTING, **{k: v for k, v in llm.items() if k != "model_name"}},
        prompt_config=prompt_config,
    )
    _apply_columns(chat, columns)
    try:
        with transaction.atomic():
            chat.save()
    except IntegrityError as exc:  # a concurrent create took the name
        raise DataError("Duplicated chat name in creating chat.") from exc
    return chat


def chat_update(*, tenant: User, chat_id: str, body: dict[str, Any]) -> Chat:
    """Apply the sent keys; datasets change only when `dataset_ids` is sent.

    The row is locked while the change is made and only the changed columns are written, so
    changes of other fields made at the same moment (another update, a delete) all survive.
    """
    with transaction.atomic():
        chat = _live(tenant).select_for_update().filter(pk=chat_id).first()
        if chat is None:
            raise DataError("You do not own the chat")
        changed = _apply_update(tenant, chat, body)
        try:
            with transaction.atomic():
                chat.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        except IntegrityError as exc:
            raise DataError("Duplicated chat name in updating chat.") from exc
    return chat


def _apply_update(tenant: User, chat: Chat, body: dict[str, Any]) -> list[str]:
    """Set the sent values on `chat` in RAGFlow's order of checks; returns the fields set."""
    changed: list[str] = []
    if "dataset_ids" in body:
        chat.dataset_ids = _check_datasets(tenant, body.get("dataset_ids") or [])
        changed.append("dataset_ids")
    llm = body.get("llm")
    if llm is not None:
        if not isinstance(llm, dict):
            raise DataError("`llm` should be an object")
        if "model_name" in llm:
            _check_model(llm["model_name"])
            chat.llm_id = llm["model_name"] or default_chat_model_id()
            changed.append("llm_id")
        chat.llm_setting = {
            **chat.llm_setting,
            **{k: v for k, v in llm.items() if k != "model_name"},
        }
        changed.append("llm_setting")
    prompt = body.get("prompt")
    if prompt is not None:
        if not isinstance(prompt, dict):
            raise DataError("`prompt` should be an object")
        columns, config = _split_prompt(prompt)
        changed += _apply_columns(chat, columns)
        merged = copy.deepcopy(chat.prompt_config)
        merged.update(config)
        if not merged.get("system"):
            merged["system"] = default_prompt_config()["system"]
        _check_parameters(merged)
        chat.prompt_config = merged
        changed.append("prompt_config")
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            raise DataError("`name` cannot be empty.")
        name = name.strip()
        if _live(tenant).filter(name__iexact=name).exclude(pk=chat.pk).exists():
            raise DataError("Duplicated chat name in updating chat.")
        chat.name = name
        changed.append("name")
    if "avatar" in body:
        chat.avatar = str(body["avatar"] or "")
        changed.append("avatar")
    if "description" in body:
        chat.description = str(body["description"] or "")
        changed.append("description")
    if "show_quotation" in body:
        chat.do_refer = "1" if body["show_quotation"] in (True, 1, "1") else "0"
        changed.append("do_refer")
    return changed


def chat_delete(*, tenant: User, ids: Sequence[Any] | None) -> tuple[int, list[str]]:
    """Soft-delete chats (ids None: all of them). Returns (deleted, errors)."""
    if ids is None:
        return _live(tenant).update(status="0"), []
    errors: list[str] = []
    seen: set[str] = set()
    deleted = 0
    for raw in ids:
        chat_id = str(raw)
        if chat_id in seen:
            errors.append(f"Duplicate assistant ids: {chat_id}")
            continue
        seen.add(chat_id)
        if _live(tenant).filter(pk=chat_id).update(status="0"):
            deleted += 1
        else:
            errors.append(f"Assistant({chat_id}) not found.")
    return deleted, errors


_ORDER = {"create_time": "created_at", "update_time": "updated_at", "name": "name", "id": "id"}


def chat_list(
    *,
    tenant: User,
    chat_id: str | None,
    name: str | None,
    orderby: str,
    desc: bool,
) -> QuerySet[Chat]:
    query = _live(tenant)
    if chat_id:
        query = query.filter(pk=chat_id)
    if name:
        query = query.filter(name=name)
    if (chat_id or name) and not query.exists():
        raise DataError("The chat doesn't exist")
    column = _ORDER.get(orderby, "created_at")
    return query.order_by(f"-{column}" if desc else column, "pk")


def prompt_out(chat: Chat) -> dict[str, Any]:
    """prompt_config and the prompt columns under their API names."""
    renames = {v: k for k, v in PROMPT_RENAMES.items()}
    out = {renames.get(k, k): copy.deepcopy(v) for k, v in chat.prompt_config.items()}
    out.update(
        {
            "similarity_threshold": chat.similarity_threshold,
            # RAGFlow's asymmetry: stored as sent, reported as 1 − stored.
            "keywords_similarity_weight": 1 - chat.vector_similarity_weight,
            "top_n": chat.top_n,
            "top_k": chat.top_k,
            "rerank_model": chat.rerank_id,
        }
    )
    return out


def fill_variables(system: str, parameters: list[dict[str, Any]], values: dict[str, Any]) -> str:
    """Put request values into `{key}` slots; a missing required one is an error."""
    for parameter in parameters:
        key = parameter.get("key")
        if not key or key == "knowledge":
            continue
        if key in values:
            system = system.replace(f"{{{key}}}", str(values[key]))
        elif parameter.get("optional"):
            system = system.replace(f"{{{key}}}", " ")
        else:
            raise DataError(f"Miss parameter: {key}")
    return system
