"""Chat assistants: create, update, delete (contract §5, §2.5), on typed changes.

The wire names of either RAGFlow generation (`llm`/`prompt`/`avatar` in v0.22, `llm_id`/
`llm_setting`/`prompt_config`/`icon` in v0.27) are mapped to `ChatChanges` in chat/api/schemas.py;
the HTML form builds the same type. Storage uses RAGFlow's internal names.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import IntegrityError, transaction

from chat.llm.registry import chat_model_exists, default_chat_model_id
from chat.models import DEFAULT_LLM_SETTING, Chat, default_prompt_config
from chat.selectors import chats_live
from chat.services.errors import WordedError, no_authorization
from knowledge import model_registry
from knowledge.models import Dataset
from knowledge.selectors import dataset_get_visible
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import DataError

# API `prompt` keys (v0.22) stored under another name inside prompt_config.
PROMPT_RENAMES = {
    "prompt": "system",
    "opener": "prologue",
    "variables": "parameters",
    "show_quote": "quote",
}
# API `prompt` keys (v0.22) stored as columns of the chat rather than in prompt_config.
PROMPT_COLUMNS = {
    "similarity_threshold": "similarity_threshold",
    "keywords_similarity_weight": "vector_similarity_weight",
    "top_n": "top_n",
    "top_k": "top_k",
    "rerank_model": "rerank_id",
}


@dataclass(frozen=True)
class ChatChanges:
    """What a create or an update sets. None: not sent (kept on update, the default on create).

    `llm_setting` and `prompt_config` are merged one level deep into the stored values (into
    the defaults on create) when `merge` is true, and replace them when it is false.
    `check_parameters`: every required prompt variable must appear in the system prompt
    (RAGFlow v0.22's rule; v0.27 dropped it).
    """

    name: str | None = None
    description: str | None = None
    icon: str | None = None
    dataset_ids: list[str] | None = None
    llm_id: str | None = None  # "": the default chat model
    llm_setting: dict[str, Any] | None = None
    prompt_config: dict[str, Any] | None = None
    similarity_threshold: float | None = None
    vector_similarity_weight: float | None = None
    top_n: int | None = None
    top_k: int | None = None
    rerank_id: str | None = None
    do_refer: bool | None = None
    merge: bool = True
    check_parameters: bool = True


@dataclass
class Deletion:
    """What a bulk delete did: how many went, and the ids refused, in the order sent."""

    deleted: int = 0
    problems: list[tuple[Literal["duplicate", "missing"], str]] = field(default_factory=list)


def _check_datasets(tenant: User, dataset_ids: Sequence[str]) -> list[str]:
    datasets: list[Dataset] = []
    for dataset_id in dataset_ids:
        if not dataset_id:
            continue
        dataset = dataset_get_visible(tenant, dataset_id)
        if dataset is None:
            raise DataError(f"You don't own the dataset {dataset_id}")
        if dataset.chunk_count <= 0:
            raise DataError(f"The dataset {dataset_id} doesn't own parsed file")
        datasets.append(dataset)
    if len({d.embedding_model.rsplit("@", 1)[0] for d in datasets}) > 1:
        models = [d.embedding_model for d in datasets]
        raise WordedError(
            'Datasets use different embedding models."',
            code=RetCode.AUTHENTICATION_ERROR,
            v027=f"Datasets use different embedding models: {models}",
            v027_code=RetCode.DATA_ERROR,
        )
    return [d.pk for d in datasets]


def _check_model(model_id: str) -> None:
    if model_id and not chat_model_exists(model_id):
        raise WordedError(
            f"`model_name` {model_id} doesn't exist", v027=f"`llm_id` {model_id} doesn't exist"
        )


def _check_rerank(rerank_id: str) -> None:
    if rerank_id and model_registry.provider_for(rerank_id, "rerank") is None:
        raise WordedError(
            f"`rerank_model` {rerank_id} doesn't exist",
            v027=f"`rerank_id` {rerank_id} doesn't exist",
        )


def _check_parameters(config: dict[str, Any]) -> None:
    system = str(config.get("system") or "")
    for parameter in config.get("parameters") or []:
        if not isinstance(parameter, dict) or parameter.get("optional"):
            continue
        key = parameter.get("key")
        if key and f"{{{key}}}" not in system:
            raise DataError(f"Parameter '{key}' is not used")


def _name_taken(creating: bool) -> WordedError:
    if creating:
        return WordedError(
            "Duplicated chat name in creating chat.", v027="duplicated chat name in creating chat"
        )
    return WordedError("Duplicated chat name in updating chat.", v027="duplicated chat name")


def _prompt_config(stored: dict[str, Any], changes: ChatChanges) -> dict[str, Any]:
    """The prompt_config after `changes` (which must carry one); the checks included."""
    sent = changes.prompt_config or {}
    config = {**copy.deepcopy(stored), **sent} if changes.merge else dict(sent)
    if not config.get("system"):
        config["system"] = default_prompt_config()["system"]
    if changes.check_parameters:
        _check_parameters(config)
    return config


def _set_columns(chat: Chat, changes: ChatChanges) -> list[str]:
    """Set the sent retrieval columns on `chat`; returns the columns set."""
    changed = []
    for column in ("similarity_threshold", "vector_similarity_weight", "top_n", "top_k"):
        value = getattr(changes, column)
        if value is not None:
            setattr(chat, column, value)
            changed.append(column)
    if changes.rerank_id is not None:
        _check_rerank(changes.rerank_id)
        chat.rerank_id = changes.rerank_id
        changed.append("rerank_id")
    return changed


def chat_create(*, tenant: User, changes: ChatChanges) -> Chat:
    """Validate and create an assistant; what `changes` leaves out gets the defaults."""
    dataset_ids = _check_datasets(tenant, changes.dataset_ids or [])
    _check_model(changes.llm_id or "")
    name = (changes.name or "").strip()
    if not name:
        raise DataError("`name` is required.")
    if chats_live(tenant).filter(name__iexact=name).exists():
        raise _name_taken(creating=True)
    setting = changes.llm_setting or {}
    chat = Chat(
        tenant=tenant,
        name=name,
        avatar=changes.icon or "",
        description="A helpful Assistant" if changes.description is None else changes.description,
        dataset_ids=dataset_ids,
        llm_id=changes.llm_id or default_chat_model_id(),
        llm_setting={**DEFAULT_LLM_SETTING, **setting} if changes.merge else dict(setting),
        prompt_config=(
            default_prompt_config()
            if changes.prompt_config is None
            else _prompt_config(default_prompt_config(), changes)
        ),
    )
    if changes.do_refer is not None:
        chat.do_refer = "1" if changes.do_refer else "0"
    _set_columns(chat, changes)
    try:
        with transaction.atomic():
            chat.save()
    except IntegrityError as exc:  # a concurrent create took the name
        raise _name_taken(creating=True) from exc
    return chat


def chat_update(*, tenant: User, chat_id: str, changes: ChatChanges) -> Chat:
    """Apply `changes`; datasets change only when `dataset_ids` is given.

    The row is locked while the change is made and only the changed columns are written, so
    changes of other fields made at the same moment (another update, a delete) all survive.
    """
    with transaction.atomic():
        chat = chats_live(tenant).select_for_update().filter(pk=chat_id).first()
        if chat is None:
            raise no_authorization("You do not own the chat")
        changed = _apply(tenant, chat, changes)
        try:
            with transaction.atomic():
                chat.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        except IntegrityError as exc:
            raise _name_taken(creating=False) from exc
    return chat


def _apply(tenant: User, chat: Chat, changes: ChatChanges) -> list[str]:
    """Set what `changes` carries on `chat`, in RAGFlow's order of checks; returns the fields."""
    changed: list[str] = []
    if changes.dataset_ids is not None:
        chat.dataset_ids = _check_datasets(tenant, changes.dataset_ids)
        changed.append("dataset_ids")
    if changes.llm_id is not None:
        _check_model(changes.llm_id)
        chat.llm_id = changes.llm_id or default_chat_model_id()
        changed.append("llm_id")
    if changes.llm_setting is not None:
        setting = changes.llm_setting
        chat.llm_setting = {**chat.llm_setting, **setting} if changes.merge else dict(setting)
        changed.append("llm_setting")
    changed += _set_columns(chat, changes)
    if changes.prompt_config is not None:
        chat.prompt_config = _prompt_config(chat.prompt_config, changes)
        changed.append("prompt_config")
    if changes.name is not None:
        name = changes.name.strip()
        if not name:
            raise DataError("`name` cannot be empty.")
        if chats_live(tenant).filter(name__iexact=name).exclude(pk=chat.pk).exists():
            raise _name_taken(creating=False)
        chat.name = name
        changed.append("name")
    if changes.icon is not None:
        chat.avatar = changes.icon
        changed.append("avatar")
    if changes.description is not None:
        chat.description = changes.description
        changed.append("description")
    if changes.do_refer is not None:
        chat.do_refer = "1" if changes.do_refer else "0"
        changed.append("do_refer")
    return changed


def chat_delete(*, tenant: User, ids: Sequence[str] | None) -> Deletion:
    """Soft-delete chats (ids None: all of them)."""
    if ids is None:
        return Deletion(chats_live(tenant).update(status="0"))
    result = Deletion()
    seen: set[str] = set()
    for chat_id in ids:
        if chat_id in seen:
            result.problems.append(("duplicate", chat_id))
            continue
        seen.add(chat_id)
        if chats_live(tenant).filter(pk=chat_id).update(status="0"):
            result.deleted += 1
        else:
            result.problems.append(("missing", chat_id))
    return result


def prompt_out(chat: Chat) -> dict[str, Any]:
    """prompt_config and the prompt columns under their v0.22 API names."""
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
