"""CSV and TSV: rows of cells, the first row taken as headers."""

from __future__ import annotations

import csv
import io

from knowledge.parsing.context import ParseContext
from knowledge.parsing.text import decode_text, row_text
from knowledge.parsing.types import Block, Extracted, ParseError, Table

# Cells may hold whole documents; csv's 128 KB default would reject them.
csv.field_size_limit(2**31 - 1)


def read_delimited(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """One block per data row ('header: value; …') and the rows as a table."""
    text = decode_text(data, filename)
    rows = []
    reader = csv.reader(io.StringIO(text), _dialect(text, filename))
    try:
        for number, row in enumerate(reader, start=1):
            cells = [cell.strip() for cell in row]
            if any(cells):
                rows.append(cells)
            if number % 1000 == 0:
                ctx.check_stop()
    except csv.Error as exc:
        raise ParseError(f"{filename} is not valid CSV: line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise ParseError(f"{filename} has no rows.")
    return Extracted(blocks=rows_to_blocks(rows), tables=[Table(rows)], tabular=True)


def rows_to_blocks(rows: list[list[str]], page: int | None = None) -> list[Block]:
    """The header row as it is, then each data row as 'header: value; …'."""
    if len(rows) == 1:
        return [Block(" | ".join(cell for cell in rows[0] if cell), page=page)]
    headers = rows[0]
    texts = (row_text(headers, row) for row in rows[1:])
    return [Block(text, page=page, is_table=True) for text in texts if text]


def _dialect(text: str, filename: str) -> type[csv.Dialect] | csv.Dialect:
    """The file's delimiter and quoting, guessed from its start; tab for .tsv."""
    if filename.lower().endswith(".tsv"):
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        return csv.excel
