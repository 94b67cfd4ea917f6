"""Dataset create, update and delete: the rules of contract §2, shared by the API and the UI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from knowledge import model_registry
from knowledge.models import Dataset, Document
from knowledge.parser_config import (
    ParserConfig,
    parser_config_for_create,
    parser_config_for_update,
)
from knowledge.selectors import dataset_name_taken, datasets_visible_to
from knowledge.services.documents import dataset_folder, delete_stored_files
from knowledge.services.preview import preview_cache_delete
from ragsite.accounts.models import User
from ragsite.api.errors import AccessDenied, DataError

NAME_MAX_BYTES = 128
_COUNTER_SUFFIX = re.compile(r"^(?P<base>.*)\((?P<count>\d+)\)$", re.DOTALL)


def _check_name_bytes(name: str) -> None:
    size = len(name.encode("utf-8"))
    if size > NAME_MAX_BYTES:
        raise DataError(f"Dataset name length is {size} which is larger than {NAME_MAX_BYTES}")


def _next_free_name(tenant: User, name: str) -> str:
    """RAGFlow v0.22.1 renames a duplicate `kb` to `kb(1)`, then `kb(2)`, …"""
    candidate = name
    for _attempt in range(1000):
        if not dataset_name_taken(tenant, candidate):
            return candidate
        match = _COUNTER_SUFFIX.match(candidate)
        candidate = f"{match['base']}({int(match['count']) + 1})" if match else f"{candidate}(1)"
    raise DataError(f"Too many datasets named '{name}'")


def _resolve_embedding_model(model_id: str | None) -> str:
    if not model_id:
        return model_registry.default_embedding_model()
    model_registry.embedding_model_check(model_id)
    return model_id


def dataset_create(
    *,
    tenant: User,
    name: str,
    avatar: str | None = None,
    description: str | None = None,
    embedding_model: str | None = None,
    permission: str = Dataset.Permission.ME,
    chunk_method: str = "naive",
    parser_config: ParserConfig | None = None,
    language: str | None = None,
    metadata_config: dict[str, Any] | None = None,
) -> Dataset:
    """Create a dataset; a name already used by the tenant gets a `(n)` suffix."""
    name = name.strip()
    _check_name_bytes(name)
    embd_id = _resolve_embedding_model(embedding_model)
    config = parser_config_for_create(chunk_method, parser_config)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Dataset.objects.create(
                    tenant=tenant,
                    name=_next_free_name(tenant, name),
                    avatar=avatar,
                    description=description,
                    embedding_model=embd_id,
                    permission=permission,
                    chunk_method=chunk_method,
                    parser_config=config,
                    language=language or "English",
                    metadata_config=metadata_config or {},
                )
        except IntegrityError:
            # A concurrent create took the same name between the check and the insert.
            continue
    raise DataError(f"Could not find a free name for dataset '{name}'")


@dataclass
class DatasetChanges:
    """The fields an update actually sent; absent keys stay as they are."""

    values: dict[str, Any] = field(default_factory=dict)
    parser_config: ParserConfig | None = None

    def has(self, key: str) -> bool:
        return key in self.values


def dataset_update(*, tenant: User, dataset_id: str, changes: DatasetChanges) -> Dataset:
    """Apply the sent fields to one of the tenant's own datasets (contract §2.5).

    The row is locked while the change is made, and only the fields changed are written: the
    counters (chunk_count, token_count, document_count) belong to the chunk and document
    services, which move them with F() expressions at any moment.
    """
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(pk=dataset_id, tenant=tenant).first()
        if dataset is None:
            raise AccessDenied(f"User '{tenant.pk}' lacks permission for dataset '{dataset_id}'")
        values = changes.values

        changed = ["parser_config"]
        new_method = values.get("chunk_method")
        dataset.parser_config = parser_config_for_update(
            dataset.parser_config,
            old_method=dataset.chunk_method,
            new_method=new_method,
            supplied=changes.parser_config,
        )
        if new_method is not None:
            dataset.chunk_method = new_method
            changed.append("chunk_method")

        if "name" in values:
            name = values["name"].strip()
            _check_name_bytes(name)
            if dataset_name_taken(tenant, name, exclude_id=dataset.pk):
                raise DataError(f"Dataset name '{name}' already exists")
            dataset.name = name
            changed.append("name")

        embd_id = values.get("embedding_model")
        if embd_id and embd_id != dataset.embedding_model:
            if dataset.chunk_count > 0:
                raise DataError(
                    f"When chunk_num ({dataset.chunk_count}) > 0, embedding_model must remain "
                    f"{dataset.embedding_model}"
                )
            model_registry.embedding_model_check(embd_id)
            dataset.embedding_model = embd_id
            changed.append("embedding_model")

        for key in (
            "avatar",
            "description",
            "permission",
            "pagerank",
            "language",
            "metadata_config",
            "connectors",
            "llm_id",
        ):
            if key in values:
                setattr(dataset, key, values[key])
                changed.append(key)
        dataset.save(update_fields=[*changed, "updated_at"])
        return dataset


def dataset_delete(*, tenant: User, ids: list[str] | None) -> int:
    """Delete datasets the tenant owns, with their documents, chunks and files.

    `None` means all of them, `[]` none (contract §2.6).

    All or nothing: if any id is not the tenant's own, nothing is deleted.
    """
    with transaction.atomic():
        owned = Dataset.objects.filter(tenant=tenant)
        if ids is None:
            targets = list(owned.select_for_update())
        else:
            targets = list(owned.filter(pk__in=ids).select_for_update())
            missing = [i for i in ids if i not in {d.pk for d in targets}]
            if missing:
                raise AccessDenied(
                    f"User '{tenant.pk}' lacks permission for datasets: '{', '.join(missing)}'"
                )
        keys = list(
            Document.objects.filter(dataset__in=targets)
            .exclude(location="")
            .values_list("location", flat=True)
        )
        folders = [dataset_folder(d.pk) for d in targets]
        deleted_ids = [d.pk for d in targets]
        for dataset in targets:
            dataset.delete()  # cascades to documents and chunks
        # Files and folders only after the commit: a rolled-back delete must not lose them.
        transaction.on_commit(partial(delete_stored_files, keys, folders))
        for dataset_id in deleted_ids:  # and the previews cached for their documents
            transaction.on_commit(partial(preview_cache_delete, dataset_id))
        return len(targets)


def dataset_list(
    *,
    user: User,
    dataset_id: str | None = None,
    name: str | None = None,
    orderby: str = "create_time",
    desc: bool = True,
    ids: list[str] | None = None,
) -> Any:
    """The caller's visible datasets, filtered and ordered (contract §2.4).

    `ids` (RAGFlow v0.27) keeps those datasets; ids the caller cannot see are dropped silently.
    """
    visible = datasets_visible_to(user)
    if ids:
        visible = visible.filter(pk__in=ids)
    if dataset_id and not visible.filter(pk=dataset_id).exists():
        raise AccessDenied(f"User '{user.pk}' lacks permission for dataset '{dataset_id}'")
    if name and not visible.filter(name__iexact=name).exists():
        raise AccessDenied(f"User '{user.pk}' lacks permission for dataset '{name}'")
    query = visible
    if dataset_id:
        query = query.filter(pk=dataset_id)
    if name:
        query = query.filter(name__iexact=name)
    column = {"create_time": "created_at", "update_time": "updated_at"}[orderby]
    return query.order_by(f"-{column}" if desc else column, "-pk" if desc else "pk")
