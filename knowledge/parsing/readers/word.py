"""Word (.docx): paragraphs with heading styles as structure, tables as rows, in body order."""

from __future__ import annotations

import re
from io import BytesIO

import docx
from docx.document import Document as DocxDocument
from docx.styles.style import ParagraphStyle
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from knowledge.parsing.context import ParseContext
from knowledge.parsing.text import clean_text, one_line, table_rows_text
from knowledge.parsing.types import Block, Extracted, ParseError, Table

# Built-in heading styles, also under the names Chinese Word gives them.
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_QN_OUTLINE = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl"
_QN_VAL = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val"


def read_docx(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """Blocks for paragraphs and tables; headings carry their level."""
    document = _open(data, filename)
    extracted = Extracted()
    items = list(document.iter_inner_content())
    style_levels: dict[str | None, int | None] = {}
    for done, item in enumerate(items):
        ctx.tick(done, len(items), "Reading the document.")
        if isinstance(item, Paragraph):
            text = clean_text(item.text)
            if text:
                extracted.blocks.append(Block(text, heading=_heading_level(item, style_levels)))
        elif isinstance(item, DocxTable):
            rows = _table_rows(item)
            if rows:
                table = Table(rows)
                extracted.tables.append(table)
                text = "\n".join(table_rows_text(rows))
                extracted.blocks.append(Block(text, is_table=True, table=table))
    return extracted


def _open(data: bytes, filename: str) -> DocxDocument:
    """The document, or a ParseError saying the file is not a Word document."""
    try:
        return docx.Document(BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for broken packages
        raise ParseError(f"{filename} is not a valid Word (.docx) file: {exc}.") from exc


def _heading_level(paragraph: Paragraph, style_levels: dict[str | None, int | None]) -> int | None:
    """1-9 for headings (0 for the Title style), from the style, its bases or the outline level.

    `style_levels` remembers each paragraph style's level within one document: python-docx
    finds an unstyled paragraph's default style by scanning every style of the file.
    """
    style_id = paragraph._p.style  # noqa: SLF001 - the w:pStyle id, None for the default
    if style_id not in style_levels:
        style_levels[style_id] = _style_level(paragraph.style)
    level = style_levels[style_id]
    if level is not None:
        return level
    properties = paragraph._p.pPr  # noqa: SLF001 - python-docx has no API for outline levels
    outline = properties.find(_QN_OUTLINE) if properties is not None else None
    if outline is not None and (outline.get(_QN_VAL) or "").isdigit():
        level = int(outline.get(_QN_VAL)) + 1
        return level if level <= 9 else None  # 9 means "body text"
    return None


def _style_level(style: ParagraphStyle | None) -> int | None:
    """A paragraph style's heading level (0 for Title), from its name or its bases' names."""
    for _ in range(4):  # custom heading styles are usually based on a built-in one
        if style is None:
            break
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return None


def _table_rows(table: DocxTable) -> list[list[str]]:
    """Cell text per row; a merged cell is listed once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[object] = []
        for cell in row.cells:
            element = cell._tc  # noqa: SLF001 - a merged cell repeats the same element
            if any(element is other for other in seen):
                continue
            seen.append(element)
            cells.append(one_line(cell.text))
        if any(cells):
            rows.append(cells)
    return rows
