"""JSON and JSON Lines: records flattened to 'path: value' text."""

from __future__ import annotations

import json
from typing import Any

from knowledge.parsing.context import ParseContext
from knowledge.parsing.text import decode_text
from knowledge.parsing.types import Block, Extracted, ParseError


def read_json(data: bytes, filename: str) -> Extracted:
    """A top-level list gives one block per item; anything else one block of 'path: value' lines."""
    text = decode_text(data, filename)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"{filename} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from exc
    items = value if isinstance(value, list) else [value]
    blocks = [Block("\n".join(flatten(item))) for item in items]
    return Extracted(blocks=[b for b in blocks if b.text.strip()])


def read_jsonl(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """One block per record, its fields on one line: 'a: 1; b.c: x'."""
    blocks = []
    bad: list[int] = []
    for number, line in enumerate(decode_text(data, filename).split("\n"), start=1):
        if number % 1000 == 0:
            ctx.check_stop()
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        text = "; ".join(flatten(record))
        if text:
            blocks.append(Block(text))
    if bad and not blocks:
        raise ParseError(f"{filename} is not valid JSON Lines: line {bad[0]} is not JSON.")
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
        ctx.note(f"Skipped {len(bad)} line(s) of {filename} that are not JSON: {shown}.")
    return Extracted(blocks=blocks)


def flatten(value: Any, path: str = "") -> list[str]:
    """Leaves of a JSON value as 'a.b[0].c: value' lines; a bare scalar is just its text."""
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            lines.extend(flatten(item, f"{path}.{key}" if path else str(key)))
        return lines
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            text = ", ".join(_scalar(item) for item in value if _scalar(item))
            return [f"{path}: {text}" if path else text] if text else []
        lines = []
        for index, item in enumerate(value):
            lines.extend(flatten(item, f"{path}[{index}]"))
        return lines
    text = _scalar(value)
    if not text:
        return []
    return [f"{path}: {text}" if path else text]


def _scalar(value: Any) -> str:
    """JSON's spelling for true/false/null, plain text for strings and numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()
