"""Excel (.xlsx): every sheet, first non-empty row as headers, cached formula values."""

from __future__ import annotations

import datetime as dt
import warnings
from io import BytesIO
from typing import Any

import openpyxl

from knowledge.parsing.context import ParseContext
from knowledge.parsing.readers.delimited import rows_to_blocks
from knowledge.parsing.text import clean_text, one_line
from knowledge.parsing.types import Block, Extracted, ParseError, Table


def read_xlsx(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """Per sheet: its rows as a table and as 'header: value; …' blocks; the page is the sheet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise ParseError(f"{filename} is not a valid Excel (.xlsx) file: {exc}.") from exc
    extracted = Extracted(tabular=True, paged=True)
    try:
        sheets = workbook.worksheets
        extracted.pages = max(1, len(sheets))
        for number, sheet in enumerate(sheets, start=1):
            ctx.tick(number - 1, len(sheets), f"Reading sheet {number}/{len(sheets)}.")
            rows = _rows(sheet, ctx)
            if not rows:
                continue
            extracted.tables.append(Table(rows, page=number, name=sheet.title))
            if len(sheets) > 1:
                extracted.blocks.append(Block(f"Sheet: {sheet.title}", page=number, heading=1))
            extracted.blocks.extend(rows_to_blocks(rows, page=number))
    finally:
        workbook.close()
    if not extracted.tables:
        raise ParseError(f"The spreadsheet {filename} has no rows.")
    return extracted


def _rows(sheet: Any, ctx: ParseContext) -> list[list[str]]:
    """Non-empty rows of a sheet as text cells, trailing empty columns dropped."""
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number % 1000 == 0:
            ctx.check_stop()
        cells = [cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(cells)
    return rows


def cell_text(value: Any) -> str:
    """A cell as people read it: whole floats without '.0', dates without midnight."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return one_line(clean_text(str(value)))
