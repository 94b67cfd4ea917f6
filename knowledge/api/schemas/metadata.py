"""Bodies of the dataset metadata routes (RAGFlow v0.27 contract §3.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.services.metadata import MetadataRemove, MetadataSet
from ragsite.api.errors import DataError


@dataclass(frozen=True)
class MetadataBatchIn:
    """`{"selector": {"document_ids"?, "metadata_condition"?}, "updates": [...], "deletes": [...]}`
    of POST /datasets/{id}/metadata/update and PATCH /datasets/{id}/documents/metadatas."""

    document_ids: list[str] | None
    condition: dict[str, Any] | None
    updates: list[MetadataSet]
    deletes: list[MetadataRemove]

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> MetadataBatchIn:
        selector = {} if body.get("selector") is None else body["selector"]
        if not isinstance(selector, dict):
            raise DataError("selector must be an object.")
        updates = [] if body.get("updates") is None else body["updates"]
        deletes = [] if body.get("deletes") is None else body["deletes"]
        if not isinstance(updates, list) or not isinstance(deletes, list):
            raise DataError("updates and deletes must be lists.")
        condition = selector.get("metadata_condition")
        if condition is not None and not isinstance(condition, dict):
            raise DataError("metadata_condition must be an object.")
        document_ids = selector.get("document_ids")
        if document_ids is not None and not isinstance(document_ids, list):
            raise DataError("document_ids must be a list.")
        sets = []
        for item in updates:
            if not isinstance(item, dict) or not item.get("key") or "value" not in item:
                raise DataError("Each update requires key and value.")
            extra = {"match": item["match"]} if "match" in item else {}
            sets.append(MetadataSet(key=str(item["key"]), value=item["value"], **extra))
        removals = []
        for item in deletes:
            if not isinstance(item, dict) or not item.get("key"):
                raise DataError("Each delete requires key.")
            extra = {"value": item["value"]} if "value" in item else {}
            removals.append(MetadataRemove(key=str(item["key"]), **extra))
        return cls(
            document_ids=None if document_ids is None else [str(i) for i in document_ids],
            condition=condition,
            updates=sets,
            deletes=removals,
        )
