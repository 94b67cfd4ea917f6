"""Request models for the agent endpoints of both RAGFlow generations (contract §8, v0.27 §2.9,
§3.6).

They hold the wire's leniency so the services take plain typed values: null values dropped,
the DSL sent as an object or as JSON text, other keys ignored, query-string flags and numbers
as RAGFlow reads them, and the v0.27 keys (`canvas_type`, `canvas_category`, `release`, the
list filters) next to the v0.22 ones. Type errors are 101 with ragsite's validation message.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Annotated, Any, Literal, Self, TypeVar

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from agents.selectors import AgentFilters, SessionFilters
from agents.services.agents import AgentChanges
from ragsite.api.codes import RetCode
from ragsite.api.errors import ArgumentError, ServiceError
from ragsite.api.parsing import (
    body_flag,
    check_lengths,
    lenient_int,
    page_bounds,
    query_bool_only_false,
    validation_message,
)

CanvasCategory = Literal["agent_canvas", "dataflow_canvas"]
# The model's column widths.
CanvasType = Annotated[str, StringConstraints(max_length=64)]
# The id lists of a v0.27 query string (`owner_ids`, `tags`, …) hold at most this many ids.
MAX_QUERY_IDS = 100


def _scalar_text(value: Any) -> Any:
    """Numbers sent where text belongs become text (RAGFlow stores what it gets)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_scalar_text)]


def _flag(value: Any) -> Any:
    """RAGFlow's `bool(req.get("release", ""))`, with "false"/"0" strings read as false."""
    return body_flag(value, False) if isinstance(value, str | int | float) else value


Flag = Annotated[bool, BeforeValidator(_flag)]


M = TypeVar("M", bound=BaseModel)
_EXPECTED = {
    "string_type": "a string",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "an object",
    "list_type": "a list",
    "literal_error": "one of {expected}",
    "string_too_long": "at most {max_length} characters long",
}


def _parsed(model: type[M], values: dict[str, Any]) -> M:
    """`values` as `model`, or 101 naming the first field at fault (`title` should be …)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        wanted = _EXPECTED.get(first["type"])
        if wanted is None or not first["loc"]:
            raise ArgumentError(validation_message(exc)) from exc
        field = first["loc"][0]
        raise ArgumentError(
            f"`{field}` should be {wanted.format(**first.get('ctx', {}))}."
        ) from exc


class _Lenient(BaseModel):
    # The agent routes ignore keys they do not know (contract §8.2).
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def dsl_from_wire(value: Any) -> dict[str, Any]:
    """The DSL as an object: sent as one, or as JSON text (101 when it is neither)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ArgumentError("The DSL is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise ArgumentError("Invalid DSL: The DSL must be a JSON object.")
    return value


# --- agents -----------------------------------------------------------------------------------


class AgentCreateIn(_Lenient):
    """POST /agents: `title` and `dsl` required; v0.27 adds canvas_type/category and release."""

    title: str
    dsl: dict[str, Any]
    description: Text | None = None
    avatar: str | None = None
    canvas_type: CanvasType | None = None
    canvas_category: CanvasCategory = "agent_canvas"
    release: Flag = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        values = _without_nulls(body)
        check_lengths(values, "title")
        if not values.get("dsl"):
            raise ServiceError("No DSL data in request.", code=RetCode.ARGUMENT_ERROR, data=False)
        title = values.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ServiceError("No title in request.", code=RetCode.ARGUMENT_ERROR, data=False)
        values["dsl"] = dsl_from_wire(values["dsl"])
        return _parsed(cls, values)


class AgentUpdateIn(_Lenient):
    """PUT /agents/{id}: any of the fields; null values are dropped (contract §8.2, §2.9)."""

    title: str | None = None
    dsl: dict[str, Any] | None = None
    description: Text | None = None
    avatar: str | None = None
    canvas_type: CanvasType | None = None
    canvas_category: CanvasCategory | None = None
    release: Flag = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        values = _without_nulls(body)
        check_lengths(values, "title")
        if "dsl" in values:
            values["dsl"] = dsl_from_wire(values["dsl"])
        return _parsed(cls, values)

    def changes(self) -> AgentChanges:
        return AgentChanges(
            title=self.title,
            description=self.description,
            dsl=self.dsl,
            canvas_type=self.canvas_type,
            canvas_category=self.canvas_category,
            avatar=self.avatar,
            release=self.release,
        )


def _id_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# Keys only ragflow-sdk 0.22 / only v0.27 clients send on GET /agents (contract G2).
V022_LIST_KEYS = ("id", "title")
V027_LIST_KEYS = ("keywords", "owner_ids", "canvas_category", "canvas_type", "tags", "type")


class AgentListQuery(_Lenient):
    """GET /agents: v0.22's exact `id`/`title`, v0.27's keywords and comma-separated lists."""

    id: str | None = None
    title: str | None = None
    keywords: str = ""
    owner_ids: str | None = None
    canvas_category: str | None = None
    canvas_type: str | None = None
    tags: str | None = None
    orderby: str | None = None
    desc: str | None = None
    page: str | None = None
    page_size: str | None = None

    @classmethod
    def from_query(cls, params: Any) -> Self:
        return _parsed(cls, {key: params.get(key) for key in params})

    @property
    def owner_id_list(self) -> list[str]:
        ids = _id_list(self.owner_ids)
        if len(ids) > MAX_QUERY_IDS:
            raise ArgumentError(f"owner_ids must contain at most {MAX_QUERY_IDS} IDs")
        return ids

    def filters(self) -> AgentFilters:
        tags = _id_list(self.tags)
        if len(tags) > MAX_QUERY_IDS:
            raise ArgumentError(f"tags must contain at most {MAX_QUERY_IDS} IDs")
        return AgentFilters(
            agent_id=self.id or None,
            title=self.title or None,
            keywords=self.keywords.strip(),
            canvas_categories=_id_list(self.canvas_category),
            canvas_type=self.canvas_type or None,
            tags=tags,
        )


# --- sessions ---------------------------------------------------------------------------------


SESSION_KEYS = ("user_id", "name", "release")


class AgentSessionCreateIn(_Lenient):
    """POST /agents/{id}/sessions. v0.27 reads `user_id`, `name` and `release` in the body
    (`user_id` may also come in the query string); the other keys are Begin inputs, as
    ragflow-sdk 0.17 posted them."""

    user_id: Text | None = None
    name: Text = ""
    release: Flag = False
    inputs: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_request(cls, body: dict[str, Any], query: Any) -> Self:
        values = _without_nulls({key: body.get(key) for key in SESSION_KEYS})
        values.setdefault("user_id", query.get("user_id") or None)
        check_lengths(values, "user_id", "name")
        values["inputs"] = {key: value for key, value in body.items() if key not in SESSION_KEYS}
        return _parsed(cls, _without_nulls(values))


def _day_or_moment(value: str, *, end: bool) -> datetime:
    """`2025-01-31` or an ISO moment; a day's end is the start of the next day."""
    day = parse_date(value) if len(value) == len("2025-01-31") else None
    if day is not None:
        moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    elif (parsed := parse_datetime(value)) is not None:
        moment = parsed
    else:
        raise ValueError
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class AgentSessionListQuery(_Lenient):
    """GET /agents/{id}/sessions: v0.22's filters plus v0.27's keywords/from_date/to_date/
    exp_user_id (`exp_user_id` is the session's user id in ragsite)."""

    id: str | None = None
    user_id: str | None = None
    exp_user_id: str | None = None
    keywords: str = ""
    from_date: str | None = None
    to_date: str | None = None
    orderby: str | None = None
    desc: str | None = None
    dsl: str | None = None
    page: str | None = None
    page_size: str | None = None

    @classmethod
    def from_query(cls, params: Any) -> Self:
        return _parsed(cls, {key: params.get(key) for key in params})

    @property
    def with_dsl(self) -> bool:
        return query_bool_only_false(self.dsl)

    def filters(self) -> SessionFilters:
        try:
            start = _day_or_moment(self.from_date, end=False) if self.from_date else None
        except ValueError as exc:
            raise ArgumentError("`from_date` should be a date such as 2025-01-31.") from exc
        try:
            before = _day_or_moment(self.to_date, end=True) if self.to_date else None
        except ValueError as exc:
            raise ArgumentError("`to_date` should be a date such as 2025-01-31.") from exc
        return SessionFilters(
            session_id=self.id or None,
            user_id=self.user_id or self.exp_user_id or None,
            keywords=self.keywords.strip(),
            created_from=start,
            created_before=before,
        )


def list_bounds(page: str | None, page_size: str | None, *, v027: bool) -> tuple[int, int]:
    """Offset and end of a page. v0.27 reads a page size below 1 as 30; v0.22 returns no rows
    for `page_size=0` (contract G8)."""
    size = lenient_int(page_size, 30, name="page_size")
    if v027 and size < 1:
        size = 30
    return page_bounds(lenient_int(page, 1, name="page"), size)


# --- completions ------------------------------------------------------------------------------


class AgentCompletionIn(_Lenient):
    """An agent completion: POST /agents/{id}/completions (v0.22; `stream` defaults to true)
    and POST /agents/chat/completions (v0.27; `agent_id` in the body, `stream` defaults to
    false). `query` and `question` both name the question."""

    agent_id: str | None = None
    question: str = ""
    stream: Annotated[bool | None, BeforeValidator(lambda v: body_flag(v, True))] = None
    session_id: str | None = None
    user_id: str | None = None
    name: str = ""  # a new session's name (v0.27)
    inputs: dict[str, Any] | None = None
    files: list[Any] = Field(default_factory=list)
    return_trace: Flag = False
    release: Flag = False
    openai_compatible: Flag = Field(default=False, alias="openai-compatible")
    # OpenAI mode (`"openai-compatible": true`)
    messages: Any = None
    id: Any = None
    metadata: Any = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Self:
        values = _without_nulls(body)
        check_lengths(values, "session_id", "user_id", "agent_id", "name")
        question, query = values.pop("question", None), values.pop("query", None)
        for key, value in (("question", question), ("query", query)):
            if value is not None and not isinstance(value, str):
                raise ArgumentError(f"`{key}` should be a string.")
        parsed = _parsed(cls, values)
        parsed.question = question or query or ""
        return parsed

    def streams(self, *, default: bool) -> bool:
        return default if self.stream is None else self.stream

    @property
    def openai_session_id(self) -> str | None:
        """OpenAI mode's session: `session_id`, else `id`, else `metadata.id`."""
        metadata = self.metadata if isinstance(self.metadata, dict) else {}
        found = self.session_id or self.id or metadata.get("id")
        if found is not None and not isinstance(found, str):
            raise ArgumentError("`session_id` should be a string.")
        return found or None
