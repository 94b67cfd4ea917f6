"""A document's table of contents (RAGFlow's `parser_config.toc_extraction`).

Each entry is `{"level": int, "title": str, "ids": [chunk id, …]}`: the chunks from the one
holding the heading up to the one holding the next heading of the same level or above (that
one included when the next section starts inside it), much as RAGFlow's build_TOC fills `ids`
from one entry's chunk to the next's. Retrieval's `toc_enhance` (knowledge.services.toc_search) adds the chunks of the
entries relevant to a question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from knowledge.parsing.headings import heading_level
from knowledge.parsing.types import Block

_SPACE = re.compile(r"\s+")
MAX_TITLE_CHARS = 200


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def headings_of(blocks: Sequence[Block]) -> list[tuple[int, str]]:
    """(level, title) of the headings the readers marked; for a file with none of them (plain
    text), the lines that look like headings on their own ("1.2 Scope", "Chapter 3" …)."""
    marked = [
        (int(b.heading), b.text.strip()[:MAX_TITLE_CHARS])
        for b in blocks
        if b.heading is not None and not b.is_table and b.text.strip()
    ]
    if marked:
        return marked
    found = []
    for block in blocks:
        if block.is_table or block.table is not None:
            continue
        for line in block.text.split("\n"):
            level = heading_level(line)
            if level is not None:
                found.append((level, line.strip()))
    return found


def build_toc(
    headings: Sequence[tuple[int, str]], contents: Sequence[str], ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The entries of `headings` found, in order, in the chunks `contents` (ids `ids`)."""
    flats = [_flat(c) for c in contents]
    placed: list[tuple[int, str, int]] = []
    at = 0
    for level, title in headings:
        needle = _flat(title)
        if not needle:
            continue
        for index in range(at, len(flats)):
            if needle in flats[index]:
                placed.append((level, title, index))
                at = index
                break
    return sections(placed, contents, ids)


def sections(
    placed: Sequence[tuple[int, str, int]], contents: Sequence[str], ids: Sequence[str]
) -> list[dict[str, Any]]:
    """TOC entries from (level, title, index of the chunk holding the heading), in order."""
    flats = [_flat(c) for c in contents]
    toc = []
    for number, (level, title, index) in enumerate(placed):
        # The section runs to the next heading of its level or above (its subsections are in
        # it), that heading's chunk included unless the heading opens it.
        end = len(ids)
        for next_level, next_title, next_index in placed[number + 1 :]:
            if next_level <= level:
                opens = flats[next_index].startswith(_flat(next_title))
                end = next_index if opens and next_index > index else next_index + 1
                break
        toc.append({"level": level, "title": title, "ids": list(dict.fromkeys(ids[index:end]))})
    return toc
