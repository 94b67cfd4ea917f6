"""Documents' metadata in bulk and a dataset's metadata fields (RAGFlow v0.27 contract §3.2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from knowledge.metadata_filter import matching_documents
from knowledge.models import Dataset, Document
from ragsite.api.errors import DataError

_NO_VALUE = object()


@dataclass(frozen=True)
class MetadataSet:
    """Set `key` to `value`; with `match`, only where the current value equals `match` (in a
    list: the elements equal to it are replaced)."""

    key: str
    value: Any
    match: Any = _NO_VALUE


@dataclass(frozen=True)
class MetadataRemove:
    """Remove `key`; with `value`, only that value (an element of a list, or the key if its
    value equals it)."""

    key: str
    value: Any = _NO_VALUE


@dataclass(frozen=True)
class MetadataOutcome:
    updated: int
    matched: int


def dataset_metadata_config_set(*, dataset: Dataset, config: dict[str, Any]) -> dict[str, Any]:
    """Store the metadata fields the dataset's documents may carry; returns what was stored."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        locked.metadata_config = config
        locked.save(update_fields=["metadata_config", "updated_at"])
    return config


def _same(current: Any, wanted: Any) -> bool:
    return str(current).strip().lower() == str(wanted).strip().lower()


def _apply_set(meta: dict[str, Any], change: MetadataSet) -> None:
    if change.match is _NO_VALUE:
        meta[change.key] = change.value
        return
    current = meta.get(change.key)
    if isinstance(current, list):
        meta[change.key] = [change.value if _same(item, change.match) else item for item in current]
    elif change.key in meta and _same(current, change.match):
        meta[change.key] = change.value


def _apply_remove(meta: dict[str, Any], change: MetadataRemove) -> None:
    if change.key not in meta:
        return
    if change.value is _NO_VALUE:
        del meta[change.key]
        return
    current = meta[change.key]
    if isinstance(current, list):
        meta[change.key] = [item for item in current if not _same(item, change.value)]
    elif _same(current, change.value):
        del meta[change.key]


def document_metadata_update(
    *,
    dataset: Dataset,
    document_ids: Sequence[str] | None,
    condition: dict[str, Any] | None,
    updates: Sequence[MetadataSet],
    deletes: Sequence[MetadataRemove],
) -> MetadataOutcome:
    """Change the metadata of the selected documents of a dataset.

    Selected are: the `document_ids` (all must be the dataset's), the documents matching
    `condition`, both (the intersection), or, with neither, every document of the dataset.
    RAGFlow v0.27 selects nothing when only a condition is given; ragsite does not copy that.
    """
    with transaction.atomic():
        query = Document.objects.select_for_update().filter(dataset=dataset).order_by("pk")
        if document_ids is not None:
            ids = list(dict.fromkeys(document_ids))
            documents = list(query.filter(pk__in=ids))
            found = {d.pk for d in documents}
            foreign = [doc_id for doc_id in ids if doc_id not in found]
            if foreign:
                raise DataError(
                    f"These documents do not belong to dataset {dataset.pk}: {', '.join(foreign)}"
                )
        else:
            documents = list(query)
        conditions = (condition or {}).get("conditions")
        if conditions:
            logic = str((condition or {}).get("logic") or "and").lower()
            keep = set(
                matching_documents(
                    [(d.pk, d.meta_fields) for d in documents], conditions, logic=logic
                )
            )
            documents = [d for d in documents if d.pk in keep]
        updated = 0
        for document in documents:
            meta = dict(document.meta_fields or {})
            for change in updates:
                _apply_set(meta, change)
            for removal in deletes:
                _apply_remove(meta, removal)
            if meta != (document.meta_fields or {}):
                document.meta_fields = meta
                document.save(update_fields=["meta_fields", "updated_at"])
                updated += 1
    return MetadataOutcome(updated=updated, matched=len(documents))
