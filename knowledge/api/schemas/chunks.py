"""Request models of the chunk endpoints, with RAGFlow's own codes and texts for wrong types."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.services.chunks import ChunkChanges
from ragsite.api.errors import DataError


def _strings(value: Any, field: str, not_a_list: str) -> list[str]:
    if not isinstance(value, list):
        raise DataError(not_a_list)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            # RAGFlow v0.22's "".join() fails here (code 100 with a TypeError); say it plainly.
            raise DataError(
                f"`{field}` should be a list of strings (item {index} is a {type(item).__name__})."
            )
    return value


def _tag_weights(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    ):
        raise DataError("`tag_feas` should map each tag to a number.")
    return {str(k): float(v) for k, v in value.items()}


def _image(value: Any) -> bytes:
    """v0.27's `image_base64`: base64, with or without a `data:<mime>;base64,` prefix."""
    if not isinstance(value, str) or not value.strip():
        raise DataError("`image_base64` must be a non-empty string")
    text = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    try:
        image = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataError("Invalid `image_base64`") from exc
    if not image:
        raise DataError("`image_base64` is empty")
    return image


class ChunkAddIn(BaseModel):
    """POST …/chunks: the text, its keywords and questions; v0.27 adds tags and an image."""

    model_config = ConfigDict(extra="ignore")

    # Checked even when the body leaves it out.
    content: str = Field("", validate_default=True)
    important_keywords: list[str] = []
    questions: list[str] = []
    tag_kwd: list[str] = []
    tag_feas: dict[str, float] = {}
    image_base64: bytes | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise DataError("`content` is required")
        return value

    @field_validator("important_keywords", "questions", "tag_kwd", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: Any) -> Any:
        if value is None:
            return []
        return _strings(value, info.field_name, f"`{info.field_name}` is required to be a list")

    @field_validator("tag_feas", mode="before")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        return {} if value is None else _tag_weights(value)

    @field_validator("image_base64", mode="before")
    @classmethod
    def _image(cls, value: Any) -> Any:
        return None if value is None else _image(value)


class ChunkUpdateIn(BaseModel):
    """PUT (v0.22) or PATCH (v0.27) …/chunks/{id}: only what is sent changes."""

    model_config = ConfigDict(extra="ignore")

    content: str | None = None
    important_keywords: list[str] | None = None
    questions: list[str] | None = None
    positions: list[Any] | None = None
    available: bool | None = None
    tag_kwd: list[str] | None = None
    tag_feas: dict[str, float] | None = None
    image_base64: bytes | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise DataError("`content` is required")
        return value

    @field_validator("important_keywords", "questions", "tag_kwd", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: Any) -> Any:
        return _strings(value, info.field_name, f"`{info.field_name}` should be a list")

    @field_validator("positions", mode="before")
    @classmethod
    def _positions(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise DataError("`positions` should be a list")
        return value

    @field_validator("available", mode="before")
    @classmethod
    def _available(cls, value: Any) -> Any:
        if value not in (0, 1, True, False):
            raise DataError("`available` should be a boolean")
        return bool(value)

    @field_validator("tag_feas", mode="before")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        return _tag_weights(value)

    @field_validator("image_base64", mode="before")
    @classmethod
    def _image(cls, value: Any) -> Any:
        return _image(value)

    def changes(self) -> ChunkChanges:
        return ChunkChanges(
            content=self.content,
            important_keywords=self.important_keywords,
            questions=self.questions,
            positions=self.positions,
            available=self.available,
            tags=self.tag_kwd,
            tag_weights=self.tag_feas,
            image=self.image_base64,
        )


class ChunkAvailabilityIn(BaseModel):
    """PATCH …/documents/{doc}/chunks (v0.27): switch chunks on or off."""

    model_config = ConfigDict(extra="ignore")

    chunk_ids: list[str]
    available: bool

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ChunkAvailabilityIn:
        ids = body.get("chunk_ids")
        if not ids or not isinstance(ids, list):
            raise DataError("`chunk_ids` is required.")
        # `available_int` wins when both are sent.
        flag = body.get("available_int", body.get("available"))
        if flag is None:
            raise DataError("`available_int` or `available` is required.")
        if flag not in (0, 1, True, False):
            raise DataError("`available_int` should be 0 or 1.")
        return cls(chunk_ids=[str(i) for i in ids], available=bool(flag))
