"""parser_config: its schema, the defaults per chunk method, and the merge rules (contract §2.2)."""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

CHUNK_METHODS = (
    "naive",
    "book",
    "email",
    "laws",
    "manual",
    "one",
    "paper",
    "picture",
    "presentation",
    "qa",
    "table",
    "tag",
)
ChunkMethod = Literal[
    "naive",
    "book",
    "email",
    "laws",
    "manual",
    "one",
    "paper",
    "picture",
    "presentation",
    "qa",
    "table",
    "tag",
]

RAPTOR_PROMPT = (
    "Please summarize the following paragraphs. Be careful with the numbers, do not make "
    "things up. Paragraphs as following:\n      {cluster_content}\n"
    "The above is the content you need to summarize."
)
DEFAULT_ENTITY_TYPES = ["organization", "person", "geo", "event", "category"]
PARSER_CONFIG_MAX_CHARS = 65535


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Keys RAGFlow v0.27 added: accepted and stored when sent, left out of configs that never had
# them (so v0.22 clients see the configs they know).
_V027 = Field(exclude_if=lambda value: value is None)


class RaptorConfig(_Strict):
    use_raptor: bool = False
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = RAPTOR_PROMPT
    max_token: Annotated[int, Field(ge=1, le=2048)] = 256
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    max_cluster: Annotated[int, Field(ge=1, le=1024)] = 64
    random_seed: Annotated[int, Field(ge=0)] = 0
    # RAGFlow v0.27 (ragsite builds no RAPTOR trees; stored for the clients that set them).
    clustering_threshold: Annotated[Annotated[float, Field(ge=0.0, le=1.0)] | None, _V027] = None
    clustering_ratio: Annotated[Annotated[float, Field(ge=0.0, le=1.0)] | None, _V027] = None
    scope: Annotated[Literal["file", "dataset"] | None, _V027] = None
    auto_disable_for_structured_data: Annotated[bool | None, _V027] = None
    clustering_method: Annotated[str | None, _V027] = None
    tree_builder: Annotated[str | None, _V027] = None
    ext: Annotated[dict[str, Any] | None, _V027] = None


class GraphragConfig(_Strict):
    use_graphrag: bool = False
    entity_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITY_TYPES))
    method: Literal["light", "general", "ner"] = "light"
    community: bool = False
    resolution: bool = False
    # RAGFlow v0.27's job limits (ragsite builds no knowledge graphs; stored as sent).
    batch_chunk_token_size: Annotated[Annotated[int, Field(ge=512, le=8196)] | None, _V027] = None
    retry_attempts: Annotated[Annotated[int, Field(ge=1, le=10)] | None, _V027] = None
    retry_backoff_seconds: Annotated[float | None, _V027] = None
    retry_backoff_max_seconds: Annotated[float | None, _V027] = None
    build_subgraph_timeout_per_chunk_seconds: Annotated[float | None, _V027] = None
    build_subgraph_min_timeout_seconds: Annotated[float | None, _V027] = None
    merge_timeout_seconds: Annotated[float | None, _V027] = None
    resolution_timeout_seconds: Annotated[float | None, _V027] = None
    community_timeout_seconds: Annotated[float | None, _V027] = None
    lock_acquire_timeout_seconds: Annotated[float | None, _V027] = None


class ParentChildConfig(_Strict):
    use_parent_child: bool = False
    children_delimiter: str = "\n"


class ParserConfig(_Strict):
    auto_keywords: Annotated[int, Field(ge=0, le=32)] = 0
    auto_questions: Annotated[int, Field(ge=0, le=10)] = 0
    chunk_token_num: Annotated[int, Field(ge=1, le=2048)] = 512
    delimiter: Annotated[str, Field(min_length=1)] = "\\n"
    graphrag: GraphragConfig = Field(default_factory=GraphragConfig)
    html4excel: bool = False
    layout_recognize: str = "DeepDOC"
    raptor: RaptorConfig = Field(default_factory=RaptorConfig)
    tag_kb_ids: list[str] = Field(default_factory=list)
    topn_tags: Annotated[int, Field(ge=1, le=10)] = 1
    filename_embd_weight: Annotated[float | None, Field(ge=0.0, le=1.0)] = 0.1
    task_page_size: Annotated[int | None, Field(ge=1)] = None
    pages: list[list[int]] | None = None
    # RAGFlow v0.27's additions, stored as sent.
    parent_child: Annotated[ParentChildConfig | None, _V027] = None
    compilation_template_group_id: Annotated[list[str] | None, _V027] = None
    ext: Annotated[dict[str, Any] | None, _V027] = None
    table_column_mode: Annotated[Literal["auto", "manual"] | None, _V027] = None
    table_column_roles: Annotated[
        dict[str, Literal["indexing", "metadata", "both", "vectorize"]] | None, _V027
    ] = None
    table_column_names: Annotated[list[str] | None, _V027] = None
    # A table of contents per document, from its headings, for retrieval's `toc_enhance`.
    toc_extraction: Annotated[bool | None, _V027] = None


def check_parser_config_size(value: ParserConfig | None) -> ParserConfig | None:
    """Pydantic after-validator: the serialised config must fit in 65 535 characters."""
    if value is None:
        return value
    size = len(value.model_dump_json())
    if size > PARSER_CONFIG_MAX_CHARS:
        raise PydanticCustomError(
            "string_too_long",
            "Parser config exceeds size limit (max 65,535 characters). Current size: {actual}",
            {"actual": size},
        )
    return value


def empty_parser_config_is_none(value: Any) -> Any:
    """Pydantic before-validator: `{}` means "no parser_config", like null."""
    return None if value == {} else value


ParserConfigField = Annotated[ParserConfig | None, Field(default=None)]


class ParserConfigMixin(BaseModel):
    """Validators shared by every request model that carries a `parser_config`."""

    @field_validator("parser_config", mode="before", check_fields=False)
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return empty_parser_config_is_none(value)

    @field_validator("parser_config", mode="after", check_fields=False)
    @classmethod
    def _size_limit(cls, value: ParserConfig | None) -> ParserConfig | None:
        return check_parser_config_size(value)


def default_parser_config(chunk_method: str) -> dict[str, Any]:
    """RAGFlow's `get_parser_config` defaults for a chunk method with no config given."""
    if chunk_method == "naive":
        return {
            "layout_recognize": "DeepDOC",
            "chunk_token_num": 512,
            "delimiter": "\n",
            "auto_keywords": 0,
            "auto_questions": 0,
            "html4excel": False,
            "topn_tags": 3,
            "raptor": {
                "use_raptor": True,
                "prompt": RAPTOR_PROMPT,
                "max_token": 256,
                "threshold": 0.1,
                "max_cluster": 64,
                "random_seed": 0,
            },
            "graphrag": {
                "use_graphrag": True,
                "entity_types": list(DEFAULT_ENTITY_TYPES),
                "method": "light",
            },
        }
    if chunk_method in {"qa", "manual", "paper", "book", "laws", "presentation"}:
        return {"raptor": {"use_raptor": False}, "graphrag": {"use_graphrag": False}}
    if chunk_method == "knowledge_graph":
        return {
            "chunk_token_num": 8192,
            "delimiter": "\\n",
            "entity_types": ["organization", "person", "location", "event", "time"],
            "raptor": {"use_raptor": False},
            "graphrag": {"use_graphrag": False},
        }
    return {}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: `override` laid over `base`, nested dicts merged key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parser_config_for_create(chunk_method: str, supplied: ParserConfig | None) -> dict[str, Any]:
    """On create, the supplied config with every schema default, over the method default."""
    default = default_parser_config(chunk_method)
    if supplied is None:
        return default
    return deep_merge(default, supplied.model_dump())


def parser_config_for_update(
    current: dict[str, Any],
    *,
    old_method: str,
    new_method: str | None,
    supplied: ParserConfig | None,
) -> dict[str, Any]:
    """On update, only the keys sent are merged into the current config.

    A chunk_method change without a non-empty config replaces the config with the new
    method's default.
    """
    if supplied is not None:
        return deep_merge(current, supplied.model_dump(exclude_unset=True))
    if new_method is not None and new_method != old_method:
        return default_parser_config(new_method)
    return current


def parser_config_json_size(config: dict[str, Any]) -> int:
    return len(json.dumps(config))
