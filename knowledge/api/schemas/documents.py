"""Request models of the document endpoints: as lenient as either RAGFlow generation.

Both generations answer wrong types with their own codes and texts (mostly 102), not pydantic's
101 lines, so the validators raise those errors themselves; what comes out is typed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.api.serializers import RUN_CODE
from knowledge.services.documents import LOCKED_FIELDS, DocumentChanges
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.parsing import lenient_int

# v0.27's `types` filter names document types; ragsite stores the same names.
DOCUMENT_TYPES = ("pdf", "doc", "visual", "aural", "virtual", "folder", "other")


class DocumentUpdateIn(BaseModel):
    """PUT (v0.22) or PATCH (v0.27) body of a document update.

    A JSON array of objects is merged in order (old docs show `doc.update([{...}, {...}])`);
    `display_name` stands for `name`; `enabled` takes 0/1 or a boolean; unknown keys are
    ignored, as both generations do.
    """

    model_config = ConfigDict(extra="ignore")

    chunk_count: Any = None
    token_count: Any = None
    progress: Any = None
    meta_fields: dict[str, Any] | None = None
    name: str | None = None
    parser_config: dict[str, Any] | None = None
    chunk_method: str | None = None
    enabled: bool | None = None
    pipeline_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_object(cls, body: Any) -> Any:
        if isinstance(body, list):
            merged: dict[str, Any] = {}
            for item in body:
                if isinstance(item, dict):
                    merged.update(item)
            body = merged
        if not isinstance(body, dict):
            return {}
        if "name" not in body and isinstance(body.get("display_name"), str):
            body = {**body, "name": body["display_name"]}
        return body

    @field_validator("meta_fields", mode="before")
    @classmethod
    def _meta_fields_object(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise DataError("meta_fields must be a dictionary")
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ArgumentError("`name` should be a string.")
        return value

    @field_validator("parser_config", mode="before")
    @classmethod
    def _parser_config_object(cls, value: Any) -> Any:
        # Anything but an object is ignored, as RAGFlow does.
        return value if isinstance(value, dict) else None

    @field_validator("chunk_method", mode="before")
    @classmethod
    def _chunk_method_text(cls, value: Any) -> Any:
        # Whether the method exists is the service's call; it names the value it refuses.
        return value if isinstance(value, str) else str(value)

    @field_validator("enabled", mode="before")
    @classmethod
    def _enabled_flag(cls, value: Any) -> Any:
        if value not in (0, 1, True, False):
            raise DataError("`enabled` should be 0 or 1")
        return bool(value)

    @field_validator("pipeline_id", mode="before")
    @classmethod
    def _no_pipelines(cls, value: Any) -> Any:
        if value not in (None, ""):
            raise DataError("ragsite has no ingestion pipelines: `pipeline_id` can only be empty.")
        return None

    def changes(self) -> DocumentChanges:
        sent = self.model_fields_set
        return DocumentChanges(
            name=self.name if "name" in sent else None,
            chunk_method=self.chunk_method,
            parser_config=self.parser_config,
            meta_fields=self.meta_fields,
            enabled=self.enabled,
            locked={key: getattr(self, key) for key in LOCKED_FIELDS if key in sent},
        )


class DocumentIdsIn(BaseModel):
    """`{"document_ids": [...]}` of parse and stop, old routes and new."""

    model_config = ConfigDict(extra="ignore")

    document_ids: list[str] = Field(default_factory=list, validate_default=True)

    @field_validator("document_ids", mode="before")
    @classmethod
    def _required_list(cls, value: Any) -> Any:
        if not value or not isinstance(value, list):
            raise DataError("`document_ids` is required")
        return [str(item) for item in value]


def _json_query(raw: str | None, name: str) -> Any:
    if raw is None or not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise DataError(f"{name} must be valid JSON: {raw}.") from exc


def _id_list(values: list[str]) -> list[str]:
    """Repeated or comma-separated ids, in order, blanks dropped."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class DocumentListIn(BaseModel):
    """The query of GET /datasets/{id}/documents, from both generations."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    ids: list[str] = []
    name: str | None = None
    keywords: str = ""
    suffixes: list[str] = []
    runs: list[str] = []
    types: list[str] = []
    created_from_ms: int = 0
    created_to_ms: int = 0
    page: int = 1
    page_size: int | None = None
    orderby: str = "create_time"
    desc: bool = True
    metadata_condition: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def from_query(cls, params: Any) -> DocumentListIn:
        """Read the query string: repeated keys, `run[]`, JSON-valued filters."""
        ids = _id_list(params.getlist("ids"))
        if params.get("id") and ids:
            raise DataError(f"Should not provide both 'id':{params.get('id')} and 'ids'{ids}")
        if len(ids) > 100:
            raise ArgumentError("ids must contain at most 100 IDs")
        types = [t.strip().lower() for t in _id_list(params.getlist("types"))]
        unknown = [t for t in types if t not in DOCUMENT_TYPES]
        if unknown:
            word = "types" if len(unknown) > 1 else "type"
            raise DataError(f"Invalid filter conditions: {', '.join(unknown)} {word}")
        runs = [*params.getlist("run"), *params.getlist("run[]"), *params.getlist("run_status")]
        condition = _json_query(params.get("metadata_condition"), "metadata_condition")
        metadata = _json_query(params.get("metadata"), "metadata")
        if condition is not None and not isinstance(condition, dict):
            raise DataError("metadata_condition must be an object.")
        if metadata is not None and not isinstance(metadata, dict):
            raise DataError("metadata must be an object.")
        if (params.get("return_empty_metadata") or "").strip().lower() == "true":
            condition = metadata = None
        raw_size = params.get("page_size")
        return cls(
            id=params.get("id") or None,
            ids=ids,
            name=params.get("name") or None,
            keywords=params.get("keywords") or "",
            suffixes=params.getlist("suffix"),
            runs=[RUN_CODE.get(r.strip().upper(), r.strip()) for r in runs],
            types=types,
            created_from_ms=lenient_int(params.get("create_time_from"), 0, name="create_time_from"),
            created_to_ms=lenient_int(params.get("create_time_to"), 0, name="create_time_to"),
            page=lenient_int(params.get("page"), 1, name="page"),
            page_size=None
            if raw_size in (None, "")
            else lenient_int(raw_size, 30, name="page_size"),
            orderby=params.get("orderby") or "create_time",
            desc=(params.get("desc") or "true").strip().lower() != "false",
            metadata_condition=condition,
            metadata=metadata,
        )


class DocumentsIngestIn(BaseModel):
    """POST /documents/ingest: `doc_ids` and `run` ("1" start, "2" cancel; 1 and 2 too)."""

    model_config = ConfigDict(extra="ignore")

    doc_ids: list[str]
    run: str
    delete: bool = False
    apply_kb: bool = False

    @field_validator("run", mode="before")
    @classmethod
    def _run_code(cls, value: Any) -> str:
        text = str(value).strip() if isinstance(value, str | int) else ""
        if text not in ("1", "2"):
            raise ArgumentError('`run` must be "1" (start or rerun) or "2" (cancel).')
        return text
