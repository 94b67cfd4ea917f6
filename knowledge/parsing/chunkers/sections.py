"""`book`, `manual` and `paper`: one chunk per section, prefixed with its heading path.

Headings come from the format (Markdown #, Word heading styles, HTML h1-h6) when it has any,
and otherwise from numbered lines ("2.1 Scope", "第二章", "Chapter 2"). A section longer than
chunk_token_num is split into token windows that all carry the path. `book` and `manual` chunk
the same way; `paper` also keeps its abstract whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.parsing.chunkers.naive import window_drafts
from knowledge.parsing.context import ParseContext
from knowledge.parsing.headings import heading_level
from knowledge.parsing.options import Options
from knowledge.parsing.types import Block, ChunkDraft, Extracted, Position

PATH_SEPARATOR = " > "
_INLINE_ABSTRACT = re.compile(r"^(abstract|摘\s*要)\s*[:：.—–-]\s*(\S.*)$", re.IGNORECASE)
_ABSTRACT = re.compile(r"^(abstract|摘\s*要)\W*$", re.IGNORECASE)


@dataclass
class Section:
    """The body under one heading, and the headings above it (its own last)."""

    path: list[str]
    body: list[Block] = field(default_factory=list)
    page: int | None = None  # where the heading is
    positions: list[Position] = field(default_factory=list)  # the heading's boxes


def chunk_sections(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str, *, paper: bool = False
) -> list[ChunkDraft]:
    """Chunks per section, each opened by its heading path."""
    sections = build_sections(extracted.all_blocks(), paper=paper)
    chunks: list[ChunkDraft] = []
    for index, section in enumerate(sections):
        prefix = PATH_SEPARATOR.join(section.path)
        if not section.body:
            following = sections[index + 1].path if index + 1 < len(sections) else []
            # A heading with nothing under it shows up in the paths of its subsections; a lone
            # one at the end of a part is still text worth keeping.
            if prefix and following[: len(section.path)] != section.path:
                pages = [section.page] if section.page else []
                chunks.append(ChunkDraft(prefix, pages, list(section.positions)))
            continue
        if paper and section.path and _ABSTRACT.match(section.path[-1]):
            body = "\n".join(block.text for block in section.body)
            positions = [p for block in section.body for p in block.positions]
            chunks.append(ChunkDraft(f"{prefix}\n{body}", _pages(section.body), positions))
            continue
        chunks.extend(window_drafts(section.body, options, prefix=prefix))
    return chunks


def build_sections(blocks: list[Block], *, paper: bool = False) -> list[Section]:
    """Group blocks under their headings, in order; text before the first heading has no path."""
    # Numbered lines are only trusted as headings when the format marks none of its own.
    detect = not any(block.heading is not None for block in blocks)
    sections = [Section([])]
    stack: list[tuple[int, str]] = []

    def open_section(
        level: int, title: str, page: int | None, positions: list[Position] | None = None
    ) -> None:
        """Start a section under the open headings of a higher level."""
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append(Section([text for _, text in stack], page=page, positions=positions or []))

    for block in blocks:
        if block.heading is not None:
            open_section(block.heading, block.text, block.page, block.positions)
            continue
        if block.is_table or not (detect or paper):
            sections[-1].body.append(block)
            continue
        lines: list[str] = []
        for line in block.text.split("\n"):
            abstract = _INLINE_ABSTRACT.match(line.strip()) if paper else None
            level = heading_level(line) if detect else None
            if abstract is None and level is None:
                lines.append(line)
                continue
            if lines:
                sections[-1].body.append(
                    Block("\n".join(lines), page=block.page, positions=block.positions)
                )
                lines = []
            if abstract is not None:
                open_section(3, abstract.group(1), block.page, block.positions)
                lines.append(abstract.group(2))
            elif level is not None:
                open_section(level, line.strip(), block.page, block.positions)
        if lines:
            sections[-1].body.append(
                Block("\n".join(lines), page=block.page, positions=block.positions)
            )
    return [s for s in sections if s.body or s.path]


def _pages(blocks: list[Block]) -> list[int]:
    """Sorted pages the blocks came from."""
    return sorted({block.page for block in blocks if block.page is not None})
