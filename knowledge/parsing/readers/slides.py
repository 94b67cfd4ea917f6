"""PowerPoint (.pptx): per slide its title, text frames, tables and speaker notes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from io import BytesIO
from typing import Any

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE

from knowledge.parsing.context import ParseContext
from knowledge.parsing.text import clean_text, one_line, table_rows_text
from knowledge.parsing.types import Block, Extracted, ParseError, Position, Table

EMU_PER_POINT = 12700


def read_pptx(data: bytes, filename: str, ctx: ParseContext) -> Extracted:
    """Blocks per slide (page = slide number): the title as a heading, then the slide's text."""
    try:
        presentation = pptx.Presentation(BytesIO(data))
        slides = list(presentation.slides)
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many types for broken packages
        raise ParseError(f"{filename} is not a valid PowerPoint (.pptx) file: {exc}.") from exc
    extracted = Extracted(pages=max(1, len(slides)), paged=True)
    for number, slide in enumerate(slides, start=1):
        ctx.tick(number - 1, len(slides), f"Reading slide {number}/{len(slides)}.")
        title_shape = slide.shapes.title
        title = one_line(title_shape.text_frame.text) if title_shape is not None else ""
        if title:
            where = _box(title_shape, number)
            extracted.blocks.append(Block(title, page=number, heading=1, positions=where))
        for shape in _reading_order(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = [[one_line(cell.text) for cell in row.cells] for row in shape.table.rows]
                rows = [row for row in rows if any(row)]
                if rows:
                    table = Table(rows, page=number, row_positions=_row_boxes(shape, number))
                    extracted.tables.append(table)
                    text = "\n".join(table_rows_text(rows))
                    extracted.blocks.append(
                        Block(
                            text,
                            page=number,
                            is_table=True,
                            positions=_box(shape, number),
                            table=table,
                        )
                    )
            elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                text = clean_text(shape.text_frame.text)
                if text:
                    extracted.blocks.append(Block(text, page=number, positions=_box(shape, number)))
        notes = _notes(slide)
        if notes:
            extracted.blocks.append(Block(f"Notes: {notes}", page=number))
    return extracted


def _box(shape: Any, number: int) -> list[Position]:
    """The shape's box on its slide in points from the top-left corner, if it has one."""
    if shape is None or None in (shape.left, shape.top, shape.width, shape.height):
        return []
    left, top = shape.left / EMU_PER_POINT, shape.top / EMU_PER_POINT
    return [
        (number, left, left + shape.width / EMU_PER_POINT, top, top + shape.height / EMU_PER_POINT)
    ]


def _row_boxes(shape: Any, number: int) -> list[Position]:
    """One box per table row (rows with no text included), from the rows' heights."""
    boxes = _box(shape, number)
    if not boxes:
        return []
    _, x0, x1, top, _ = boxes[0]
    result: list[Position] = []
    for row in shape.table.rows:
        height = (row.height or 0) / EMU_PER_POINT
        if any(one_line(cell.text) for cell in row.cells):
            result.append((number, x0, x1, top, top + height))
        top += height
    return result


def _reading_order(shapes: Iterable[Any]) -> Iterator[Any]:
    """Shapes top to bottom, then left to right, with groups opened up."""
    flat: list[Any] = []

    def collect(items: Iterable[Any]) -> None:
        """Add shapes to `flat`, replacing each group by its members."""
        for shape in items:
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                collect(shape.shapes)
            else:
                flat.append(shape)

    collect(shapes)
    yield from sorted(flat, key=lambda s: (s.top or 0, s.left or 0))


def _notes(slide: Any) -> str:
    """The slide's speaker notes, or ''."""
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return clean_text(frame.text) if frame is not None else ""
