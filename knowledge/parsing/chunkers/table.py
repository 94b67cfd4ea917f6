"""`table`: one chunk per table row, each value named by its column header."""

from __future__ import annotations

from knowledge.parsing.context import ParseContext
from knowledge.parsing.options import Options
from knowledge.parsing.text import row_text
from knowledge.parsing.types import ChunkDraft, Extracted, ParseError


def chunk_table(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """'header1: v1; header2: v2; …' per data row of every table (sheet) in the file."""
    if not extracted.tables:
        raise ParseError(
            f"The table method needs tables, and {filename} has none. It reads spreadsheets "
            "(.xlsx), CSV and TSV files, and the tables in PDF, Word, PowerPoint, HTML and Markdown "
            "files."
        )
    chunks = []
    for table in extracted.tables:
        boxes = table.row_positions if len(table.row_positions) == len(table.rows) else []
        kept = [(i, row) for i, row in enumerate(table.rows) if any(row)]
        if len(kept) < 2:
            continue
        rows = [row for _, row in kept]
        width = max(len(row) for row in rows)
        headers = [h or f"Column {i + 1}" for i, h in enumerate(rows[0] + [""] * width)][:width]
        pages = [table.page] if table.page is not None else []
        for index, row in kept[1:]:
            text = row_text(headers, row)
            if text:
                positions = [boxes[index]] if boxes else []
                chunks.append(
                    ChunkDraft(content=text, page_numbers=list(pages), positions=positions)
                )
    if not chunks:
        raise ParseError(
            f"No table rows were found in {filename}: the table method needs a header row "
            "followed by data rows."
        )
    return chunks
