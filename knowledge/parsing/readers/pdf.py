"""PDF: the text layer page by page with PDFium, and OCR for pages that have none; the layout
(reading order, tables, headings, running headers) comes from `knowledge.parsing.layout`.

PDFium (pypdfium2) was measured at about 1 ms per text page against 55 ms for pdfplumber, with
identical CJK text and no ligature or spacing artefacts, so it reads the text layer; with a box
for every character it takes about 15 ms for a dense two-column page.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from knowledge.parsing.context import ParseContext
from knowledge.parsing.layout import PageText, Span, drop_running_text, layout_blocks
from knowledge.parsing.options import Options
from knowledge.parsing.readers.ocr import ocr_boxes
from knowledge.parsing.text import clean_text
from knowledge.parsing.types import Extracted, ParseError

# Pages are rendered for OCR at 108 dpi (scale 1.5): on 8 pt text it read every line exactly
# and is faster than 144 dpi (about 3 s for a dense A4 page on two cores). A scan embedded at a
# higher resolution is rendered closer to it, up to 144 dpi, so small scanned print survives.
OCR_MIN_SCALE = 1.5
OCR_MAX_SCALE = 2.0
MIN_IMAGE_POINTS = 72  # images narrower than an inch are logos and icons, not scans
# A page with less text than this and an image on it is taken to be a scan with a page number.
SCANNED_PAGE_MAX_CHARS = 30
SPAN_GAP = 0.75  # a gap wider than this share of the line height splits a line into spans
BOLD_WEIGHT = 600
MAX_RULES = 2000


def read_pdf(data: bytes, filename: str, ctx: ParseContext, options: Options) -> Extracted:
    """Blocks of paragraphs, headings and tables in reading order, each with its boxes."""
    document = _open(data)
    try:
        total = len(document)
        if total == 0:
            raise ParseError("The PDF has no pages.")
        numbers = _selected_pages(total, options.pages, ctx)
        pages: list[PageText] = []
        scanned: list[int] = []
        empty: list[int] = []
        for done, number in enumerate(numbers):
            ctx.tick(done, len(numbers), f"Reading page {number}/{total}.")
            try:
                page, used_ocr = _page_text(document, number, options.ocr_all_pages)
            except pdfium.PdfiumError as exc:
                ctx.note(f"Page {number} could not be read ({exc}); skipped it.")
                continue
            if used_ocr and not options.ocr_all_pages:
                scanned.append(number)
            if not page.spans:
                empty.append(number)
            pages.append(page)
        if scanned:
            ctx.note(f"{_pages_phrase(scanned)} no text layer; read with OCR.")
        if empty:
            ctx.note(f"No text was found on {_pages_phrase(empty, verb=False)}.")
        removed = drop_running_text(pages)
        if removed:
            ctx.note(f"Left out {removed} running header, footer and page number line(s).")
        blocks, tables = layout_blocks(pages)  # reads a page's drawn lines when it has a table
    finally:
        document.close()
    if tables:
        ctx.note(f"Found {len(tables)} table(s).")
    return Extracted(blocks=blocks, pages=total, paged=True, tables=tables)


def _open(data: bytes) -> pdfium.PdfDocument:
    """Open the PDF or explain, in words, why it cannot be opened."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ParseError(
                "The PDF is password-protected; remove the password and upload it again."
            ) from exc
        reason = re.sub(r"^.*\(PDFium: (.*)\)\.?$", r"\1", str(exc)).lower()
        raise ParseError(f"The PDF file is damaged and could not be read: {reason}.") from exc


def _selected_pages(
    total: int, ranges: list[tuple[int, int]] | None, ctx: ParseContext
) -> list[int]:
    """1-based page numbers to read: all of them, or those in the configured ranges."""
    if not ranges:
        return list(range(1, total + 1))
    numbers = sorted({n for start, end in ranges for n in range(start, min(end, total) + 1)})
    if not numbers:
        wanted = ", ".join(f"{start}-{end}" for start, end in ranges)
        pages = "1 page" if total == 1 else f"{total} pages"
        raise ParseError(f"The PDF has {pages}, so none of the requested pages ({wanted}) exist.")
    if len(numbers) < total:
        ctx.note(f"Read {len(numbers)} of {total} pages, as the pages setting asks.")
    return numbers


def _page_text(document: pdfium.PdfDocument, number: int, ocr: bool) -> tuple[PageText, bool]:
    """The positioned text of one page and whether OCR produced it."""
    page = document[number - 1]
    try:
        width, height = page.get_size()
        result = PageText(number, width, height, figures=_figures(page, height))
        result.rule_source = partial(_rules, document, number, height)
        if not ocr:
            textpage = page.get_textpage()
            try:
                result.spans = _text_layer_spans(textpage, height)
            finally:
                textpage.close()
            chars = sum(len(span.text) for span in result.spans)
            ocr = not chars or (chars < SCANNED_PAGE_MAX_CHARS and _has_image(page))
        if ocr:
            scale = _ocr_scale(page)
            bitmap = page.render(scale=scale)
            spans = [
                Span(
                    text,
                    x0 / scale,
                    x1 / scale,
                    top / scale,
                    bottom / scale,
                    (bottom - top) / scale,
                )
                for text, x0, x1, top, bottom in ocr_boxes(bitmap.to_pil())
            ]
            if spans:
                result.spans = spans
                result.figures = []  # the scan itself is a picture of the whole page
        return result, ocr
    finally:
        page.close()


def _text_layer_spans(textpage: pdfium.PdfTextPage, height: float) -> list[Span]:
    """Runs of text split at line ends and at gaps wider than a space, with their boxes.

    One text call for the page and one box call per character (about 3 µs each). PDFium's own
    line breaks are kept; within a line, a gap between words starts a new span when it is wide
    (table cells, a column gutter the text order jumps over) and clearly wider than the line's
    narrowest word gap, since justified lines stretch all their spaces alike.
    """
    count = pdfium_c.FPDFText_CountChars(textpage.raw)
    text = textpage.get_text_range()
    if count <= 0 or len(text) != count:
        # Characters outside the BMP make the text longer than the character count.
        text = "".join(
            chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 32) for i in range(count)
        )
    rect = pdfium_c.FS_RECTF()
    ref = ctypes.byref(rect)
    loose = pdfium_c.FPDFText_GetLooseCharBox
    raw = textpage.raw
    spans: list[Span] = []
    line: list[_Char] = []
    top = bottom = x0 = 0.0
    for index, char in enumerate(text):
        if char in "\r\n":
            spans.extend(_split_line(line, raw))
            line = []
            continue
        if char.isspace() or char in "\ufffe\x02":
            if line:
                line.append(_Char(" " if char.isspace() else "-", index, *line[-1].box, space=True))
            continue
        loose(raw, index, ref)
        left, right, ctop, cbottom = rect.left, rect.right, height - rect.top, height - rect.bottom
        if line:
            line_height = bottom - top
            new_line = ctop >= bottom - 0.2 * line_height or cbottom <= top + 0.2 * line_height
            if new_line or left < x0 - line_height:
                spans.extend(_split_line(line, raw))
                line = []
        if not line:
            x0, top, bottom = left, ctop, cbottom
        else:
            x0, top, bottom = min(x0, left), min(top, ctop), max(bottom, cbottom)
        line.append(_Char(char, index, left, right, ctop, cbottom))
    spans.extend(_split_line(line, raw))
    return spans


@dataclass
class _Char:
    char: str
    index: int
    x0: float
    x1: float
    top: float
    bottom: float
    space: bool = False

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x1, self.x1, self.top, self.bottom


def _split_line(line: list[_Char], raw: Any) -> list[Span]:
    """A line's characters as spans, cut at its wide gaps."""
    glyphs = [c for c in line if not c.space]
    if not glyphs:
        return []
    height = max(c.bottom for c in glyphs) - min(c.top for c in glyphs)
    gaps = []
    for before, after in zip(glyphs, glyphs[1:], strict=False):
        gap = after.x0 - before.x1
        if after.index - before.index > 1 or gap > 0.2 * height:  # a space between them
            gaps.append(gap)
    narrowest = min(gaps, default=0.0)
    pieces: list[list[_Char]] = [[]]
    previous: _Char | None = None
    for char in line:
        if not char.space and previous is not None:
            gap = char.x0 - previous.x1
            if gap > SPAN_GAP * height and (gap > 2 * height or gap > 1.6 * narrowest):
                pieces.append([])
        if char.space and not pieces[-1]:
            continue
        pieces[-1].append(char)
        if not char.space:
            previous = char
    spans = []
    for piece in pieces:
        boxed = [c for c in piece if not c.space]
        if not boxed:
            continue
        # Characters beyond the BMP come as surrogate pairs.
        joined = "".join(c.char for c in piece)
        joined = joined.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        text = _tidy(joined).strip()
        if not text:
            continue
        first = boxed[0].index
        top, bottom = min(c.top for c in boxed), max(c.bottom for c in boxed)
        size = pdfium_c.FPDFText_GetFontSize(raw, first) or (bottom - top)
        bold = pdfium_c.FPDFText_GetFontWeight(raw, first) >= BOLD_WEIGHT
        spans.append(Span(text, boxed[0].x0, max(c.x1 for c in boxed), top, bottom, size, bold))
    return spans


def _rules(
    document: pdfium.PdfDocument, number: int, height: float
) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, x1, top, bottom) of the lines and rectangles drawn on a page (none past
    MAX_RULES of them: a page of vector art is not a table's frame)."""
    page = document[number - 1]
    try:
        boxes = []
        paths = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2)
        for index, path in enumerate(paths):
            if index >= MAX_RULES:
                return []
            left, bottom, right, top = path.get_bounds()
            boxes.append((left, right, height - top, height - bottom))
        return boxes
    finally:
        page.close()


def _figures(page: pdfium.PdfPage, height: float) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, x1, top, bottom) of the pictures on the page larger than an icon."""
    boxes = []
    for image in _images(page):
        left, bottom, right, top = image.get_bounds()
        if right - left >= MIN_IMAGE_POINTS and top - bottom >= MIN_IMAGE_POINTS / 2:
            boxes.append((left, right, height - top, height - bottom))
    return boxes


def _has_image(page: pdfium.PdfPage) -> bool:
    """Whether the page draws at least one image (scans do)."""
    return any(True for _ in _images(page))


def _ocr_scale(page: pdfium.PdfPage) -> float:
    """Render scale for OCR: the resolution of the page's scan, within the configured bounds."""
    scale = OCR_MIN_SCALE
    for image in _images(page):
        left, _bottom, right, _top = image.get_bounds()
        if right - left >= MIN_IMAGE_POINTS:
            scale = max(scale, image.get_px_size()[0] / (right - left))
    return min(scale, OCR_MAX_SCALE)


def _images(page: pdfium.PdfPage) -> Iterator[Any]:
    """The image objects drawn on the page, including those inside form XObjects."""
    return page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)


def _tidy(text: str) -> str:
    """PDFium text with its line-end hyphen markers restored and control characters removed."""
    # PDFium joins a line that ends in a hyphen to the next one and marks the hyphen as U+FFFE
    # (or 0x02); it cannot tell "well-known" from "docu-ments", so the hyphen is kept.
    return clean_text(text.replace("\ufffe", "-").replace("\x02", "-"))


def _pages_phrase(numbers: list[int], *, verb: bool = True) -> str:
    """'Page 3 has' / 'Pages 3, 5-7 have' (or without the verb)."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    text = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    single = len(numbers) == 1
    noun = "page" if single else "pages"
    if not verb:
        return f"{noun} {text}"
    return f"{noun.capitalize()} {text} {'has' if single else 'have'}"
