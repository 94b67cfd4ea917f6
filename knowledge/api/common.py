"""What the knowledge views share: which RAGFlow API generation a request speaks, and the few
answers that differ between the generations only in wording or code (contract v0.27 §2.10)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragsite.api.errors import AccessDenied, DataError, ServiceError
from ragsite.api.generation import V0_27, is_v027


def delete_all_signal(body: Any) -> str | None:
    """Only v0.27 clients send `delete_all` (ragflow-sdk 0.27.3 always does): the key alone
    says which rules the bulk delete follows (conflict G5)."""
    return V0_27 if isinstance(body, dict) and "delete_all" in body else None


def speaks_v027(request: Any, body: Any = None) -> bool:
    """The request's generation, with a `delete_all` key in `body` as its own signal."""
    return is_v027(request, signal=delete_all_signal(body))


@contextmanager
def permission_as_data_error(v027: bool) -> Iterator[None]:
    """RAGFlow v0.27 reports dataset permission errors with code 102 instead of 108."""
    try:
        yield
    except AccessDenied as exc:
        if not v027:
            raise
        raise DataError(exc.message) from exc


# v0.22 wording → v0.27 wording of the same errors (lower case, no full stop).
_V027_TEXTS = [
    (
        re.compile(r"^You don't own the document (.*)\.$", re.DOTALL),
        r"you don't own the document \1",
    ),
    (re.compile(r"^You don't own the dataset\.$"), "you don't own the dataset"),
    (
        re.compile(r"^The dataset doesn't own the document\.$"),
        "the dataset doesn't own the document",
    ),
    (re.compile(r"^Can't change `(\w+)`\.$"), r"can't change `\1`"),
    (
        re.compile(r"^Can't stop parsing document with progress at 0 or 1$"),
        "Can't stop parsing document that has not started or already completed",
    ),
]
# v0.27 adds a machine-readable code to some errors (`data.error_code`).
_V027_ERROR_CODES = {
    "Can't stop parsing document that has not started or already completed": (
        "DOC_STOP_PARSING_INVALID_STATE"
    ),
}


def v027_text(message: str) -> str:
    """A v0.22 message in v0.27's wording, or the message itself when they agree."""
    for pattern, replacement in _V027_TEXTS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


@contextmanager
def generation_texts(v027: bool) -> Iterator[None]:
    """Services speak v0.22's wording; v0.27 clients get the same errors in theirs."""
    try:
        yield
    except ServiceError as exc:
        if not v027 or (text := v027_text(exc.message)) == exc.message:
            raise
        exc.message = text
        exc.args = (text,)
        if text in _V027_ERROR_CODES:
            exc.data = {"error_code": _V027_ERROR_CODES[text]}
        raise
