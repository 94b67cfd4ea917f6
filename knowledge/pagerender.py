"""PDF pages as PNG images for the document preview, with PDFium (pypdfium2). No ORM.

Page sizes are in PDF points, the unit of `Chunk.positions` ([page, x0, x1, top, bottom] from
the page's top-left), so the preview places a chunk's boxes as shares of the page's width and
height and they line up with the image at any displayed size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

# Wide enough to read 8 pt text on a laptop screen; a tall page is scaled down so that no image
# has more than MAX_PIXELS (a poster PDF cannot make a 100-megapixel PNG).
PAGE_WIDTH_PX = 1240
MAX_PIXELS = 1240 * 1754 * 2  # two A4 pages at that width


class PdfUnreadable(Exception):
    """PDFium cannot open the file (damaged or password-protected)."""


@dataclass(frozen=True)
class PageSize:
    width: float  # points
    height: float


def page_sizes(path: Path) -> list[PageSize]:
    """Every page's size in points, as displayed (rotation applied)."""
    document = _open(path)
    try:
        sizes = []
        for index in range(len(document)):
            page = document[index]
            try:
                width, height = page.get_size()
                if page.get_rotation() in (90, 270):
                    width, height = height, width
                sizes.append(PageSize(float(width), float(height)))
            finally:
                page.close()
        return sizes
    finally:
        document.close()


def render_page(path: Path, number: int) -> bytes:
    """Page `number` (1-based) as a PNG PAGE_WIDTH_PX wide, or narrower if that is too big."""
    document = _open(path)
    try:
        page = document[number - 1]
        try:
            width, height = page.get_size()
            if page.get_rotation() in (90, 270):
                width, height = height, width
            scale = PAGE_WIDTH_PX / max(width, 1.0)
            if width * height * scale * scale > MAX_PIXELS:
                scale = (MAX_PIXELS / max(width * height, 1.0)) ** 0.5
            image = page.render(scale=scale, draw_annots=True).to_pil()
        finally:
            page.close()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise PdfUnreadable(str(exc)) from exc


@dataclass(frozen=True)
class Box:
    """One of a chunk's rectangles on a page, as percentages of the page's width and height."""

    left: float
    top: float
    width: float
    height: float


def boxes_on_page(positions: object, number: int, size: PageSize) -> list[Box]:
    """The boxes of `positions` ([[page, x0, x1, top, bottom], …], points) on page `number`;
    malformed entries are skipped and boxes are clipped to the page."""
    boxes = []
    for entry in positions if isinstance(positions, list) else []:
        values = _position(entry)
        if values is None or int(values[0]) != number:
            continue
        _page, x0, x1, top, bottom = values
        x0, x1 = sorted((_clip(x0, size.width), _clip(x1, size.width)))
        top, bottom = sorted((_clip(top, size.height), _clip(bottom, size.height)))
        if x1 <= x0 or bottom <= top:
            continue
        boxes.append(
            Box(
                left=round(100 * x0 / size.width, 3),
                top=round(100 * top / size.height, 3),
                width=round(100 * (x1 - x0) / size.width, 3),
                height=round(100 * (bottom - top) / size.height, 3),
            )
        )
    return boxes


def first_page(positions: object) -> int | None:
    """The page of the first well-formed position, if any."""
    for entry in positions if isinstance(positions, list) else []:
        values = _position(entry)
        if values is not None and values[0] >= 1:
            return int(values[0])
    return None


def _position(entry: object) -> tuple[float, float, float, float, float] | None:
    if not isinstance(entry, list | tuple) or len(entry) != 5:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in entry):
        return None
    page, x0, x1, top, bottom = (float(v) for v in entry)
    return page, x0, x1, top, bottom


def _clip(value: float, limit: float) -> float:
    return min(max(value, 0.0), limit)


# Text search: a piece of a chunk this long (without spaces) is taken to be distinctive.
SNIPPET_CHARS = 24
MAX_SEARCHED_PAGES = 500


def locate_text(path: Path, text: str, hint: int | None = None) -> list[list[float]]:
    """Where `text` is printed in the PDF, as positions ([page, x0, x1, top, bottom] in points
    from the top-left, one per line of the match), found through the text layer.

    Whitespace is ignored on both sides (a PDF wraps lines where the chunk has spaces, and CJK
    text has none); pieces of the chunk that differ from the page (a dropped hyphen, a changed
    quote) are skipped and matching resumes after them. The page with the most matched
    characters wins (the `hint` page, e.g. the chunk's page number, on a tie), with the next
    page too when the chunk runs on to it. [] when nothing matches.
    """
    wanted = "".join(text.split())
    if len(wanted) < min(SNIPPET_CHARS, 8):
        return []
    document = _open(path)
    try:
        total = min(len(document), MAX_SEARCHED_PAGES)
        found: dict[int, tuple[int, int, list[list[float]]]] = {}
        # The hint page and its neighbours first: when most of the chunk is there, the other
        # pages of a long PDF are not read at all.
        near = [n for n in (hint, (hint or 0) - 1, (hint or 0) + 1) if n and 1 <= n <= total]
        for number in near + [n for n in range(1, total + 1) if n not in near]:
            if number not in near and any(2 * m >= len(wanted) for m, _, _ in found.values()):
                break
            matched, resume, positions = _match_page(document, number, wanted)
            if matched:
                found[number] = (matched, resume, positions)
    finally:
        document.close()
    if not found:
        return []
    best = max(found, key=lambda n: (found[n][0], n == hint, -n))
    positions = list(found[best][2])
    _matched, resume, _ = found[best]
    if resume < len(wanted) and best + 1 in found:
        # The rest of the chunk at the top of the next page.
        rest = wanted[resume:]
        document = _open(path)
        try:
            _m, _r, more = _match_page(document, best + 1, rest, anchored=True)
        finally:
            document.close()
        positions.extend(more)
    return positions


def _match_page(
    document: pdfium.PdfDocument, number: int, wanted: str, *, anchored: bool = False
) -> tuple[int, int, list[list[float]]]:
    """(characters of `wanted` matched on the page, where in `wanted` the last match ended, boxes).

    `anchored`: the match must start at the page's first characters (a chunk running on)."""
    page = document[number - 1]
    try:
        height = page.get_size()[1]
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
            indices = [i for i, ch in enumerate(raw) if not ch.isspace()]
            flat = "".join(raw[i] for i in indices).replace("\ufffe", "-")
            spans: list[tuple[int, int]] = []  # in `flat`
            pos, cursor, matched, until = 0, 0, 0, 0
            while pos < len(wanted):
                snippet = wanted[pos : pos + SNIPPET_CHARS]
                start = flat.find(snippet, cursor)
                if start < 0 or (anchored and not spans and start > SNIPPET_CHARS):
                    if anchored and not spans:
                        break
                    pos += SNIPPET_CHARS
                    continue
                end = start + len(snippet)
                while end < len(flat) and pos + (end - start) < len(wanted):
                    if flat[end] != wanted[pos + end - start]:
                        break
                    end += 1
                spans.append((start, end))
                matched += end - start
                pos += end - start
                cursor, until = end, pos
            positions = []
            for start, end in spans:
                first, last = indices[start], indices[end - 1]
                for k in range(textpage.count_rects(first, last - first + 1)):
                    left, bottom, right, top = textpage.get_rect(k)
                    positions.append([float(number), left, right, height - top, height - bottom])
            return matched, until, positions
        finally:
            textpage.close()
    finally:
        page.close()


class ImageUnreadable(Exception):
    """Pillow cannot open the image (damaged, or too large to decode safely)."""


def image_sizes(data: bytes) -> list[PageSize]:
    """The size in pixels of every frame of an image (a multi-page TIFF has several)."""
    with _image(data) as image:
        sizes = []
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            sizes.append(PageSize(float(image.width), float(image.height)))
        return sizes


def render_image(data: bytes, number: int) -> bytes:
    """Frame `number` (1-based) as a PNG at most PAGE_WIDTH_PX wide and MAX_PIXELS big."""
    with _image(data) as image:
        image.seek(number - 1)
        frame = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
    scale = min(1.0, PAGE_WIDTH_PX / max(frame.width, 1))
    if frame.width * frame.height * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / max(frame.width * frame.height, 1)) ** 0.5
    if scale < 1.0:
        frame = frame.resize(
            (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
        )
    buffer = io.BytesIO()
    frame.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _image(data: bytes) -> Any:
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ImageUnreadable(str(exc)) from exc
