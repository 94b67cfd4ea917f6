"""Text that PostgreSQL and UTF-8 can store, made so at every boundary where input enters.

PostgreSQL refuses NUL (U+0000) in `text` and `jsonb`, and a lone UTF-16 surrogate
(U+D800–U+DFFF, which JSON can spell as `"\\ud800"`) cannot be encoded as UTF-8 at all. Rather
than reject a whole request for one stray character, ragsite removes NULs and replaces lone
surrogates with U+FFFD (the replacement character), wherever text comes in: API bodies, query
strings, form fields, websocket messages and uploaded file names.
"""

from __future__ import annotations

import re
from typing import Any

_REFUSED = re.compile("[\x00\ud800-\udfff]")


class TooDeepError(ValueError):
    """A JSON value nested deeper than allowed."""


def _replace(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def clean_text(value: str) -> str:
    """`value` without NULs and with lone surrogates replaced by U+FFFD."""
    if _REFUSED.search(value) is None:
        return value
    return _REFUSED.sub(_replace, value)


def clean_json(value: Any, *, max_depth: int) -> Any:
    """Clean every string (keys included) of a parsed JSON value; refuse deep nesting.

    Raises TooDeepError when objects and arrays nest more than `max_depth` levels.
    """
    return _clean(value, max_depth, 0)


def _clean(value: Any, max_depth: int, depth: int) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict | list):
        if depth >= max_depth:
            raise TooDeepError(f"nested deeper than {max_depth} levels")
        if isinstance(value, dict):
            return {clean_text(str(k)): _clean(v, max_depth, depth + 1) for k, v in value.items()}
        return [_clean(v, max_depth, depth + 1) for v in value]
    return value
