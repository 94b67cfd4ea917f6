"""Request parsing in RAGFlow's two styles (contract §1.7) and its validation messages (§1.8)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from pydantic import BaseModel, ValidationError

from ragsite.api.errors import ArgumentError
from ragsite.text import TooDeepError, clean_json

M = TypeVar("M", bound=BaseModel)

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _raw_body(request: Any) -> bytes:
    # DRF's Request proxies Django's; read the underlying bytes once, without DRF parsers.
    django_request: HttpRequest = getattr(request, "_request", request)
    return django_request.body


MALFORMED_JSON = "Malformed JSON syntax: Missing commas/brackets or invalid encoding"


def _parse(body: bytes) -> Any:
    """Decode a JSON body and clean it (ragsite.text), or raise ArgumentError (101).

    Text PostgreSQL refuses (NUL, lone surrogates) is cleaned here, so nothing behind the API
    ever sees it; nesting deeper than RAGSITE_MAX_JSON_DEPTH is refused.
    """
    limit = settings.RAGSITE_MAX_JSON_DEPTH
    try:
        payload = json.loads(body)
        return clean_json(payload, max_depth=limit)
    except (TooDeepError, RecursionError) as exc:
        raise ArgumentError(
            f"The JSON body is nested too deeply (at most {limit} levels)."
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArgumentError(MALFORMED_JSON) from exc


def strict_json_object(request: Any) -> dict[str, Any]:
    """The dataset endpoints' body pre-checks, in RAGFlow's order, all code 101."""
    content_type = request.META.get("CONTENT_TYPE") or None
    media_type = content_type.split(";")[0].strip().lower() if content_type else None
    if media_type != "application/json":
        raise ArgumentError(
            f"Unsupported content type: Expected application/json, got {content_type}"
        )
    payload = _parse(_raw_body(request))
    if not isinstance(payload, dict):
        raise ArgumentError(
            f"Invalid request payload: expected object, got {type(payload).__name__}"
        )
    return payload


def lenient_json(request: Any) -> Any:
    """Every other endpoint: the JSON body, {} when there is none.

    RAGFlow turns a body it cannot parse into {} as well; ragsite answers 101 instead, because
    an empty body means "everything" to several RAGFlow routes (a trailing comma in a bulk
    delete must not delete every chat).
    """
    body = _raw_body(request)
    if not body.strip():
        return {}
    return _parse(body)


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
    """Offset and end index for a 1-based page; page 0 behaves like page 1.

    Pages beyond RAGSITE_MAX_PAGE or sizes beyond RAGSITE_MAX_PAGE_SIZE are refused (101).
    """
    if page > settings.RAGSITE_MAX_PAGE:
        raise ArgumentError(f"`page` should be at most {settings.RAGSITE_MAX_PAGE}.")
    if page_size > settings.RAGSITE_MAX_PAGE_SIZE:
        raise ArgumentError(f"`page_size` should be at most {settings.RAGSITE_MAX_PAGE_SIZE}.")
    page = max(page, 1)
    page_size = max(page_size, 0)
    offset = (page - 1) * page_size
    return offset, offset + page_size


def paging(params: Any, *, default_size: int = 30) -> tuple[int, int]:
    """Offset and end index from `page`/`page_size` in a query dict or a JSON body."""
    return page_bounds(
        lenient_int(params.get("page"), 1, name="page"),
        lenient_int(params.get("page_size"), default_size, name="page_size"),
    )


# PostgreSQL's bigint: a larger integer can only be a mistake, and must not reach the database.
_BIGINT = 2**63 - 1


def lenient_int(value: Any, default: int, *, name: str = "value") -> int:
    """RAGFlow's `int(value)` on lenient endpoints; a bad value is 101 naming the field."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ArgumentError(f"`{name}` should be an integer.")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentError(f"`{name}` should be an integer.") from exc
    if not -_BIGINT <= number <= _BIGINT:
        raise ArgumentError(f"`{name}` is out of range.")
    return number


def lenient_float(value: Any, default: float, *, name: str = "value") -> float:
    if value is None:
        return default
    if isinstance(value, bool):
        raise ArgumentError(f"`{name}` should be a number.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgumentError(f"`{name}` should be a number.") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise ArgumentError(f"`{name}` should be a finite number.")
    return number


def body_flag(value: Any, default: bool) -> bool:
    """A JSON-body boolean such as `stream`, tolerating "false"/"0" strings."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)


def json_body(request: Any, *, short: tuple[str, ...] = ()) -> dict[str, Any]:
    """A lenient JSON object body: {} when absent; anything but an object is 101.

    The `short` fields (names, titles, user ids) are held to RAGSITE_MAX_NAME_CHARS.
    """
    body = lenient_json(request)
    if not isinstance(body, dict):
        raise ArgumentError(f"Invalid request payload: expected object, got {type(body).__name__}")
    check_lengths(body, *short)
    return body


def text_field(
    body: dict[str, Any], key: str, *, max_chars: int, default: str | None = None
) -> str | None:
    """A string field of a body, refused (101) when it is not a string or is too long."""
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentError(f"`{key}` should be a string.")
    if len(value) > max_chars:
        raise ArgumentError(f"`{key}` is too long: at most {max_chars} characters.")
    return value


def check_lengths(values: Any, *keys: str) -> None:
    """Refuse (101) string fields longer than RAGSITE_MAX_NAME_CHARS: names, titles, user ids."""
    if not isinstance(values, dict):
        return
    limit = settings.RAGSITE_MAX_NAME_CHARS
    for key in keys:
        value = values.get(key)
        if isinstance(value, str) and len(value) > limit:
            raise ArgumentError(f"`{key}` is too long: at most {limit} characters.")


def bulk_delete_ids(body: dict[str, Any], key: str = "ids") -> list[Any] | None:
    """The ids a bulk delete names, or None for "delete them all".

    Deleting everything takes an explicit request: `"<key>": null` (RAGFlow v0.22) or
    `"delete_all": true` (v0.27). A body without the key, an empty list, or
    `"delete_all": false` with no ids deletes nothing (an empty list is returned).
    """
    delete_all = body.get("delete_all")
    if delete_all is not None and not isinstance(delete_all, bool):
        raise ArgumentError("`delete_all` should be a boolean.")
    ids = body.get(key)
    if ids is not None and not isinstance(ids, list):
        raise ArgumentError(f"`{key}` should be a list.")
    if delete_all:
        if ids:
            raise ArgumentError(f"Give either `{key}` or `delete_all: true`, not both.")
        return None
    if ids is None and key in body and "delete_all" not in body:
        return None
    return list(ids or [])
