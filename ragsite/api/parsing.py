"""Request parsing in RAGFlow's two styles (contract §1.7) and its validation messages (§1.8)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest
from pydantic import BaseModel, ValidationError

from ragsite.api.errors import ArgumentError, ExceptionError

M = TypeVar("M", bound=BaseModel)

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _raw_body(request: Any) -> bytes:
    # DRF's Request proxies Django's; read the underlying bytes once, without DRF parsers.
    django_request: HttpRequest = getattr(request, "_request", request)
    return django_request.body


def strict_json_object(request: Any) -> dict[str, Any]:
    """The dataset endpoints' body pre-checks, in RAGFlow's order, all code 101."""
    content_type = request.META.get("CONTENT_TYPE") or None
    media_type = content_type.split(";")[0].strip().lower() if content_type else None
    if media_type != "application/json":
        raise ArgumentError(
            f"Unsupported content type: Expected application/json, got {content_type}"
        )
    try:
        payload = json.loads(_raw_body(request))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArgumentError(
            "Malformed JSON syntax: Missing commas/brackets or invalid encoding"
        ) from exc
    if not isinstance(payload, dict):
        raise ArgumentError(
            f"Invalid request payload: expected object, got {type(payload).__name__}"
        )
    return payload


def lenient_json(request: Any) -> Any:
    """Every other endpoint: the JSON body, or {} when it is absent or not JSON."""
    try:
        body = _raw_body(request)
        return json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return {}


def validation_message(exc: ValidationError) -> str:
    """RAGFlow's `format_validation_error_message`: one line per pydantic error."""
    lines = []
    for err in exc.errors():
        location = ".".join(str(part) for part in err["loc"])
        value = str(err.get("input"))
        if len(value) > 128:
            value = value[:125] + "..."
        lines.append(f"Field: <{location}> - Message: <{err['msg']}> - Value: <{value}>")
    return "\n".join(lines)


def validate(model: type[M], data: Any, *, strict: bool = True) -> M:
    """Validate `data` with `model`, raising ArgumentError (101) with RAGFlow's message."""
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise ArgumentError(validation_message(exc)) from exc


def query_dict(request: Any) -> dict[str, str]:
    """Query parameters, first value of each (Werkzeug's `args.to_dict()`)."""
    return {key: request.GET.get(key) for key in request.GET}


def query_bool(value: str | None, default: bool) -> bool:
    """Parse a query-string boolean; `requests` sends Python bools as "True"/"False"."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return default


def query_bool_only_false(value: str | None) -> bool:
    """RAGFlow's chats/sessions/agents lists: only "false" (any case) is false."""
    return value is None or value.strip().lower() != "false"


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    """Offset and end index for a 1-based page; page 0 behaves like page 1."""
    page = max(page, 1)
    page_size = max(page_size, 0)
    offset = (page - 1) * page_size
    return offset, offset + page_size


def lenient_int(value: Any, default: int) -> int:
    """RAGFlow's `int(value)` on lenient endpoints: a bad value is code 100 with the repr."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ExceptionError(repr(exc)) from exc


def lenient_float(value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ExceptionError(repr(exc)) from exc


def body_flag(value: Any, default: bool) -> bool:
    """A JSON-body boolean such as `stream`, tolerating "false"/"0" strings."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)


def json_body(request: Any) -> dict[str, Any]:
    """A lenient JSON object body: {} when absent, malformed or not an object."""
    body = lenient_json(request)
    return body if isinstance(body, dict) else {}
