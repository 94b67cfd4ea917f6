"""YAML front matter (`---` … `---` at the top of a Markdown file): fields, not passage text.

Static-site generators and note apps put a document's title, date and tags there. As chunk text
it is noise: a chunk holding only `title: …`, `tags: […]` matches nothing a person asks. The
parser takes it out of the text and hands its fields to the document's metadata instead.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

import yaml

# The opening line is exactly `---`; the block ends at a `---` or `...` line (YAML's
# document end, which pandoc accepts).
_FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.S | re.M)
MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_NODES = 10_000  # values visited while converting; YAML aliases can multiply them


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """(fields, rest) when `text` opens with a YAML front matter block, else (None, text).

    Only a block that YAML reads as a mapping (or as nothing: an empty block) counts; a file
    that merely opens with a `---` rule followed by prose stays as it is.
    """
    match = _FRONT_MATTER_RE.match(text)
    if match is None or len(match.group(1)) > MAX_FRONT_MATTER_CHARS:
        return None, text
    try:
        loaded = yaml.safe_load(match.group(1))
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            return None, text
        budget = _Budget(MAX_NODES)
        fields = {
            str(key): _metadata_value(value, budget)
            for key, value in loaded.items()
            if key is not None
        }
    except (yaml.YAMLError, _TooLarge):
        return None, text
    return fields, text[match.end() :]


class _TooLarge(Exception):
    """The front matter expands to more values than a document's metadata should hold."""


class _Budget:
    def __init__(self, nodes: int) -> None:
        self.left = nodes

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge


def _metadata_value(value: Any, budget: _Budget) -> Any:
    """A value metadata filters can compare: strings, numbers, booleans and lists of them;
    nested mappings and lists are kept as their JSON text rather than dropped."""
    if isinstance(value, list | tuple | set):
        return [
            _json_text(item, budget) if _nested(item) else _plain(item, budget) for item in value
        ]
    if _nested(value):
        return _json_text(value, budget)
    return _plain(value, budget)


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list | tuple | set)


def _json_text(value: Any, budget: _Budget) -> str:
    return json.dumps(_plain(value, budget), ensure_ascii=False)


def _plain(value: Any, budget: _Budget) -> Any:
    """`value` as JSON-ready data. YAML aliases can make a short block expand exponentially,
    so every value visited is counted against `budget`."""
    budget.spend()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON (and PostgreSQL's jsonb) has no NaN or infinity
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item, budget) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(item, budget) for item in value]
    return str(value)
