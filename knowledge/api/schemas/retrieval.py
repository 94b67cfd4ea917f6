"""The body of POST /api/v1/retrieval, from either RAGFlow generation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.services.retrieval import RetrievalRequest
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.parsing import lenient_float, lenient_int, page_bounds


class RetrievalIn(BaseModel):
    """Question, datasets and knobs. `documents` is ragflow-sdk 0.17's name for `document_ids`;
    `use_kg` puts the knowledge-graph chunk first; `toc_enhance` (v0.27) adds the chunks of the
    relevant sections of the documents' tables of contents (knowledge.services.toc_search)."""

    model_config = ConfigDict(extra="ignore")

    question: str = ""
    dataset_ids: list[str] = Field(default_factory=list, validate_default=True)
    document_ids: list[str] = []
    page: int = 1
    page_size: int = 30
    similarity_threshold: float = 0.2
    vector_similarity_weight: float = 0.3
    top_k: int = 1024
    rerank_id: str | None = None
    # None: the generation's default (G8: on for v0.22, off for v0.27).
    highlight: bool | None = None
    metadata_condition: dict[str, Any] | None = None
    use_kg: bool = False
    toc_enhance: bool = False

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        if "question" not in body:
            raise DataError("`question` is required.")
        if body.get("document_ids") is None and "documents" in body:
            body = {**body, "document_ids": body["documents"]}
        return body

    @field_validator("question", mode="before")
    @classmethod
    def _question(cls, value: Any) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str | int | float):
            raise ArgumentError("`question` should be a string.")
        return str(value)

    @field_validator("dataset_ids", mode="before")
    @classmethod
    def _dataset_ids(cls, value: Any) -> Any:
        if value is None or value == []:
            raise DataError("`dataset_ids` is required.")
        if not isinstance(value, list):
            raise DataError("`dataset_ids` should be a list")
        return [str(item) for item in value]

    @field_validator("document_ids", mode="before")
    @classmethod
    def _document_ids(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, list):
            raise DataError("`documents` should be a list")
        return [str(item) for item in value]

    @field_validator("page", "page_size", "top_k", mode="before")
    @classmethod
    def _int(cls, value: Any, info: Any) -> Any:
        default = cls.model_fields[info.field_name].default
        return lenient_int(value, default, name=info.field_name)

    @field_validator("similarity_threshold", "vector_similarity_weight", mode="before")
    @classmethod
    def _float(cls, value: Any, info: Any) -> Any:
        default = cls.model_fields[info.field_name].default
        return lenient_float(value, default, name=info.field_name)

    @field_validator("rerank_id", mode="before")
    @classmethod
    def _rerank(cls, value: Any) -> Any:
        return str(value) if value else None

    @field_validator("highlight", mode="before")
    @classmethod
    def _highlight(cls, value: Any) -> Any:
        # Anything but false-ish switches it on, as RAGFlow v0.22 reads it.
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip().lower() not in ("false", "0", "")
        return bool(value)

    @field_validator("metadata_condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else None

    @field_validator("use_kg", "toc_enhance", mode="before")
    @classmethod
    def _flag(cls, value: Any, info: Any) -> Any:
        # RAGFlow reads them as truthy; a list or an object is a mistake worth saying.
        if value is not None and not isinstance(value, bool | int | float | str):
            raise ArgumentError(f"`{info.field_name}` should be a boolean.")
        return bool(value) and str(value).strip().lower() not in ("false", "0")

    def request(self, *, highlight_default: bool) -> RetrievalRequest:
        page_bounds(self.page, self.page_size)
        condition = self.metadata_condition or {}
        conditions = condition.get("conditions") or []
        logic = str(condition.get("logic") or "and").strip().lower()
        if logic not in ("and", "or"):
            raise ArgumentError("`metadata_condition.logic` should be 'and' or 'or'.")
        return RetrievalRequest(
            question=self.question,
            dataset_ids=self.dataset_ids,
            document_ids=self.document_ids,
            page=self.page,
            page_size=self.page_size,
            similarity_threshold=self.similarity_threshold,
            vector_similarity_weight=self.vector_similarity_weight,
            top_k=self.top_k,
            rerank_id=self.rerank_id,
            highlight=highlight_default if self.highlight is None else self.highlight,
            conditions=conditions if isinstance(conditions, list) else [],
            logic=logic,
            use_kg=self.use_kg,
            toc_enhance=self.toc_enhance,
        )
