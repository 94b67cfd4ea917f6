"""Request models of the dataset endpoints: pydantic, strict, unknown keys refused (contract §1.7).

The field constraints and custom messages reproduce RAGFlow v0.22.1's validation_utils, so the
101 messages match what its clients and tests look for.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from knowledge import model_registry
from knowledge.parser_config import ChunkMethod, ParserConfigField, ParserConfigMixin
from ragsite.ids import is_uuid1_hex

DatasetName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
AVATAR_MIME_TYPES = ["image/jpeg", "image/png"]


def uuid1_hex(value: Any) -> str:
    """RAGFlow v0.22 takes only version-1 UUIDs as dataset ids."""
    if not is_uuid1_hex(value):
        raise PydanticCustomError("invalid_UUID1_format", "Invalid UUID1 format")
    return uuid.UUID(value).hex


def uuid_hex(value: Any) -> str:
    """RAGFlow v0.27 takes any UUID version as a dataset id."""
    try:
        return uuid.UUID(value).hex
    except (TypeError, ValueError, AttributeError) as exc:
        raise PydanticCustomError("invalid_UUID_format", "Invalid UUID format") from exc


def _unique_ids(ids: list[str]) -> list[str]:
    duplicates = [item for item, count in Counter(ids).items() if count > 1]
    if duplicates:
        raise PydanticCustomError(
            "duplicate_uuids",
            "Duplicate ids: '{duplicate_ids}'",
            {"duplicate_ids": ", ".join(duplicates)},
        )
    return ids


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DatasetFieldsMixin(ParserConfigMixin):
    """Validators shared by create and update."""

    @field_validator("avatar", mode="before", check_fields=False)
    @classmethod
    def _blank_avatar_is_none(cls, value: Any) -> Any:
        # ragflow-sdk 0.17 sends avatar "" when it has none.
        return None if value == "" else value

    @field_validator("avatar", mode="after", check_fields=False)
    @classmethod
    def _avatar_is_data_uri(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "," not in value:
            raise PydanticCustomError(
                "format_invalid", "Missing MIME prefix. Expected format: data:<mime>;base64,<data>"
            )
        prefix = value.split(",", 1)[0]
        if not prefix.startswith("data:"):
            raise PydanticCustomError(
                "format_invalid", "Invalid MIME prefix format. Must start with 'data:'"
            )
        if prefix[5:].split(";")[0] not in AVATAR_MIME_TYPES:
            raise PydanticCustomError(
                "format_invalid",
                "Unsupported MIME type. Allowed: {supported_mime_types}",
                {"supported_mime_types": AVATAR_MIME_TYPES},
            )
        return value

    @field_validator("embedding_model", mode="after", check_fields=False)
    @classmethod
    def _embedding_model_format(cls, value: str | None) -> str | None:
        if not value:
            return value
        if "@" not in value:
            # ragflow-sdk 0.17 sends bare names (its default is "BAAI/bge-large-zh-v1.5").
            resolved = model_registry.resolve_bare_embedding_name(value)
            if resolved:
                return resolved
            raise PydanticCustomError(
                "format_invalid",
                "Embedding model identifier must follow <model_name>@<provider> format",
            )
        model_name, provider = value.split("@", 1)
        if not model_name or not provider:
            raise PydanticCustomError(
                "format_invalid", "Both model_name and provider must be non-empty strings"
            )
        if not model_name.strip() or not provider.strip():
            raise PydanticCustomError(
                "format_invalid", "Model name and provider cannot be whitespace-only strings"
            )
        return value


class MetadataField(_Base):
    """One metadata field a dataset's documents may carry (RAGFlow v0.27)."""

    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    type: Literal["string", "list", "time", "number"]
    description: str | None = None
    enum: list[str] | None = None


class MetadataConfig(_Base):
    """`auto_metadata_config`, and the body of PUT /datasets/{id}/metadata/config: a list left
    out is stored empty."""

    metadata: list[MetadataField] = []
    built_in_metadata: list[MetadataField] = []


class _V027DatasetFields(_Base):
    """Keys RAGFlow v0.27 added to dataset create and update."""

    auto_metadata_config: MetadataConfig | None = None
    # Extra columns RAGFlow merges into its row; ragsite has no such columns and ignores them.
    ext: dict[str, Any] = {}
    # Ingestion pipelines: ragsite has none, so only "none" is accepted.
    parse_type: int | None = None
    pipeline_id: str | None = None

    @field_validator("parse_type", "pipeline_id", mode="before")
    @classmethod
    def _no_pipelines(cls, value: Any) -> Any:
        if value not in (None, ""):
            raise PydanticCustomError(
                "no_pipelines", "ragsite has no ingestion pipelines: leave this field out"
            )
        return None


class DatasetCreateIn(DatasetFieldsMixin, _V027DatasetFields):
    name: DatasetName
    avatar: Annotated[str | None, Field(default=None, max_length=65535)]
    description: Annotated[str | None, Field(default=None, max_length=65535)]
    embedding_model: Annotated[
        str | None, StringConstraints(strip_whitespace=True, max_length=255), Field(default=None)
    ]
    permission: Literal["me", "team"] = "me"
    chunk_method: ChunkMethod = "naive"
    parser_config: ParserConfigField
    # Accepted for ragflow-sdk 0.17, which always sends it (v0.22.1 refuses it).
    language: Annotated[str | None, Field(default=None, max_length=32)]


class DatasetUpdateIn(DatasetFieldsMixin, _V027DatasetFields):
    name: DatasetName = ""
    avatar: Annotated[str | None, Field(default=None, max_length=65535)]
    description: Annotated[str | None, Field(default=None, max_length=65535)]
    embedding_model: Annotated[
        str | None, StringConstraints(strip_whitespace=True, max_length=255), Field(default=None)
    ]
    permission: Literal["me", "team"] = "me"
    chunk_method: ChunkMethod = "naive"
    parser_config: ParserConfigField
    pagerank: Annotated[int, Field(ge=0, le=100)] = 0
    language: Annotated[str | None, Field(default=None, max_length=32)]
    # RAGFlow v0.27's data-source connectors: stored and echoed.
    connectors: list[dict[str, Any]] = []


class DatasetDeleteIn(_Base):
    """RAGFlow v0.22: `ids` is required (null: every dataset); ids are version-1 UUIDs."""

    ids: list[str] | None
    delete_all: bool = False

    @field_validator("ids", mode="after")
    @classmethod
    def _uuid_and_unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_ids([uuid1_hex(item) for item in value])


class DatasetDeleteIn27(DatasetDeleteIn):
    """RAGFlow v0.27: `ids` may be left out (nothing is deleted); any UUID version."""

    ids: list[str] | None = None

    @field_validator("ids", mode="after")
    @classmethod
    def _uuid_and_unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _unique_ids([uuid_hex(item) for item in value])


class DatasetListIn(BaseModel):
    """Query string: lax types (values arrive as strings); unknown parameters are ignored (both
    generations' clients send some the other does not know)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    ids: list[str] = []
    name: str | None = None
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 30
    orderby: Literal["create_time", "update_time"] = "create_time"
    desc: bool = True
    include_parsing_status: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_uuid(cls, value: Any) -> Any:
        return None if value is None else uuid1_hex(value)

    @field_validator("ids", mode="after")
    @classmethod
    def _ids_are_uuids(cls, value: list[str]) -> list[str]:
        if len(value) > 100:
            raise PydanticCustomError("too_many_ids", "ids must contain at most 100 IDs")
        return _unique_ids([uuid_hex(item) for item in value])


class DatasetListIn27(DatasetListIn):
    """RAGFlow v0.27 takes any UUID version as the `id`."""

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_uuid(cls, value: Any) -> Any:
        return None if value is None else uuid_hex(value)
