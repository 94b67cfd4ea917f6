"""`html4excel`: spreadsheet rows as HTML tables, as many rows per chunk as fit."""

from __future__ import annotations

from html import escape

from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import ChunkDraft, Table


def html_table_chunks(tables: list[Table], limit: int) -> list[ChunkDraft]:
    """Each chunk is a <table> with the sheet name as caption and the header row repeated."""
    chunks = []
    for table in tables:
        if not table.rows:
            continue
        caption = f"<caption>{escape(table.name)}</caption>" if table.name else ""
        header = "<tr>" + "".join(f"<th>{escape(cell)}</th>" for cell in table.rows[0]) + "</tr>"
        opening = f"<table>{caption}{header}"
        pages = [table.page] if table.page is not None else []
        rows: list[str] = []
        size = count_tokens(opening)
        for row in table.rows[1:]:
            html = "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            tokens = count_tokens(html)
            if rows and size + tokens > limit:
                chunks.append(ChunkDraft(opening + "".join(rows) + "</table>", list(pages)))
                rows, size = [], count_tokens(opening)
            rows.append(html)
            size += tokens
        if rows or len(table.rows) == 1:
            chunks.append(ChunkDraft(opening + "".join(rows) + "</table>", list(pages)))
    return chunks
