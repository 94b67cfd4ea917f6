"""The values that cross the package boundary, and the intermediate form readers produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where a piece of text sits: RAGFlow's `[page, x0, x1, top, bottom]`, the page 1-based and the
# box in PDF points from the page's top-left corner.
Position = tuple[int, float, float, float, float]


@dataclass
class ChunkDraft:
    """One chunk ready to embed: its text and where it came from."""

    content: str
    page_numbers: list[int] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    important_keywords: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    token_count: int = 0


@dataclass
class ParseResult:
    """The chunks of one document, its size, sentences for its progress log, and metadata
    fields the file itself declares (a Markdown file's YAML front matter)."""

    chunks: list[ChunkDraft]
    pages: int
    notes: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    # The document's headings in reading order: (level, title).
    headings: list[tuple[int, str]] = field(default_factory=list)


class ParseError(Exception):
    """The document cannot be parsed; `message` says why in words a person understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParseCancelled(Exception):
    """`should_stop` asked the parse to stop."""


@dataclass
class Block:
    """A paragraph-sized piece of a document, in reading order."""

    text: str
    page: int | None = None  # 1-based page, slide or sheet; None when the format has no pages
    heading: int | None = None  # heading level (0 = document title, 1 = top level …); None = body
    is_table: bool = False  # rows rendered from a table: never scanned for numbered headings
    positions: list[Position] = field(default_factory=list)  # boxes on paged formats (PDF)
    table: Table | None = None  # the structured table this block renders, if any
    term: bool = False  # a definition's term (an API signature, an option): kept with what follows


@dataclass
class Table:
    """Cell text of one table or sheet, header row first."""

    rows: list[list[str]]
    page: int | None = None
    name: str = ""  # the sheet name or the table's caption
    # One box per row (PDF): a chunk holding some rows points at exactly those rows.
    row_positions: list[Position] = field(default_factory=list)


@dataclass
class Attachment:
    """A file attached to an email, already read."""

    filename: str
    content: Extracted


@dataclass
class Extracted:
    """What a reader found in a file, before chunking."""

    blocks: list[Block] = field(default_factory=list)
    pages: int = 1
    paged: bool = False  # page numbers are meaningful (pdf, pptx, xlsx, multi-page tiff)
    tables: list[Table] = field(default_factory=list)
    tabular: bool = False  # the whole file is a table (xlsx, csv): qa/table read `tables`
    attachments: list[Attachment] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # fields declared in the file

    def all_blocks(self) -> list[Block]:
        """Blocks of the file followed by those of its attachments, each under a heading."""
        blocks = list(self.blocks)
        for attachment in self.attachments:
            blocks.append(Block(f"Attachment: {attachment.filename}", heading=1))
            # An attachment's page 3 is not page 3 of the email, so its pages are dropped.
            blocks.extend(
                Block(b.text, heading=b.heading, is_table=b.is_table, table=_pageless(b.table))
                for b in attachment.content.all_blocks()
            )
        return blocks


def _pageless(table: Table | None) -> Table | None:
    """The table without its page and boxes, which belong to another file."""
    return None if table is None else Table(table.rows, name=table.name)
