"""Tables as RAGFlow stores them: HTML `<table>` chunks, as many rows per chunk as fit, the
header row repeated in each and the caption (sheet name or 'Table 2: …') kept."""

from __future__ import annotations

from html import escape

from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import ChunkDraft, Position, Table


def html_table_chunks(tables: list[Table], limit: int) -> list[ChunkDraft]:
    """Chunks for every table, in order."""
    return [chunk for table in tables for chunk in table_chunks(table, limit)]


def table_chunks(table: Table, limit: int) -> list[ChunkDraft]:
    """Each chunk is a <table> with the caption and the header row, then the next rows that fit.

    A chunk's positions are the header row's box and those of its own rows (when the reader
    knows them), so a highlight covers exactly what the chunk holds.
    """
    if not table.rows:
        return []
    caption = f"<caption>{escape(table.name)}</caption>" if table.name else ""
    header = "<tr>" + "".join(f"<th>{escape(cell)}</th>" for cell in table.rows[0]) + "</tr>"
    opening = f"<table>{caption}{header}"
    pages = [table.page] if table.page is not None else []
    boxes = table.row_positions if len(table.row_positions) == len(table.rows) else []
    chunks: list[ChunkDraft] = []
    rows: list[str] = []
    spots: list[Position] = []
    size = count_tokens(opening)

    def emit() -> None:
        # One box from the header down for the first piece; later pieces point at the header
        # row and at their own rows.
        if not boxes:
            positions: list[Position] = []
        elif not chunks:
            positions = _merge([boxes[0], *spots])
        else:
            positions = [boxes[0], *_merge(spots)]
        chunks.append(ChunkDraft(opening + "".join(rows) + "</table>", list(pages), positions))

    for index, row in enumerate(table.rows[1:], start=1):
        html = "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        tokens = count_tokens(html)
        if rows and size + tokens > limit:
            emit()
            rows, spots, size = [], [], count_tokens(opening)
        rows.append(html)
        if boxes:
            spots.append(boxes[index])
        size += tokens
    if rows or len(table.rows) == 1:
        emit()
    return chunks


def _merge(boxes: list[Position]) -> list[Position]:
    """Boxes of consecutive rows on one page joined into one box per page."""
    merged: list[Position] = []
    for page, x0, x1, top, bottom in boxes:
        if merged and merged[-1][0] == page:
            _, mx0, mx1, mtop, mbottom = merged[-1]
            merged[-1] = (page, min(mx0, x0), max(mx1, x1), min(mtop, top), max(mbottom, bottom))
        else:
            merged.append((page, x0, x1, top, bottom))
    return merged
