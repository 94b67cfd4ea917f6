"""Page layout from positioned text: reading order, tables, paragraphs, headings, and the running
headers and footers to drop.

Readers of paged formats turn a page into `Span`s (a run of text on one line, with its box in
PDF points from the page's top-left corner) from the PDF text layer or from OCR boxes; this module
does the rest without knowing where the spans came from.

- Running headers and footers: text in the top or bottom tenth of the page that repeats, digits
  aside, on many pages, and lone page numbers there ("7", "Page 7 of 9", "- vii -").
- Reading order: a recursive XY cut. A region whose spans leave a vertical gutter is read column
  by column; otherwise it is cut at its widest horizontal gap. A region whose spans fall into
  aligned columns on three or more rows, and whose cells are short, is a table, not columns.
- Paragraphs: consecutive lines of one column, close together, in one font size; a short last
  line, an indented first line or a list marker ends one.
- Headings: short paragraphs set larger than the body text (or in bold and numbered); their
  level is the rank of their size.
- Captions ("Figure 3:", "Table 2.") stay paragraphs of their own; a figure's caption also
  points at the picture above or below it, and a table's becomes the table's name.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.parsing.headings import heading_level, starts_new_paragraph
from knowledge.parsing.tokens import CJK_RE, is_cjk
from knowledge.parsing.types import Block, Position, Table

HEADER_ZONE = 0.1  # share of the page height at the top and at the bottom
MIN_TABLE_ROWS = 3  # a header and two data rows
MAX_CELL_WORDS = 5  # median words per cell: more, and the "columns" are running text
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:page\s*)?(?:\d{1,4}|[ivxlcdm]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?[-–—\s]*$",
    re.IGNORECASE,
)
_CAPTION = re.compile(
    r"^(?:fig(?:ure)?\.?|table|图|表)\s*[\dA-Z]+(?:\.\d+)*\s*[:.：]", re.IGNORECASE
)
_TABLE_CAPTION = re.compile(r"^(?:table|表)\s*[\dA-Z]", re.IGNORECASE)
_SENTENCE_END = tuple(".!?。！？:：;；")


@dataclass
class Span:
    """A run of text on one line and its box (points, top-left origin)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0  # font size (or line height for OCR text)
    bold: bool = False
    table: _TableRegion | None = None  # set on the stand-in for a table found across the page

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass
class PageText:
    """What a reader found on one page."""

    number: int  # 1-based
    width: float
    height: float
    spans: list[Span] = field(default_factory=list)
    figures: list[tuple[float, float, float, float]] = field(default_factory=list)  # x0,x1,t,b
    # The lines and rectangles drawn on the page, read only for pages with a table.
    rule_source: Callable[[], list[tuple[float, float, float, float]]] | None = None


@dataclass
class _Line:
    spans: list[Span]
    frame: tuple[float, float] = (0.0, 0.0)  # left and right edges of the column it sits in

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.spans)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.spans)

    @property
    def top(self) -> float:
        return min(s.top for s in self.spans)

    @property
    def bottom(self) -> float:
        return max(s.bottom for s in self.spans)

    @property
    def size(self) -> float:
        return max(s.size for s in self.spans)

    @property
    def bold(self) -> bool:
        return all(s.bold for s in self.spans)

    @property
    def text(self) -> str:
        return _join_words([s.text for s in sorted(self.spans, key=lambda s: s.x0)])


@dataclass
class _TableRegion:
    rows: list[list[str]]
    row_boxes: list[tuple[float, float, float, float]]
    top: float
    x0: float
    x1: float
    bottom: float


# --- headers and footers ------------------------------------------------------------------------


def drop_running_text(pages: list[PageText]) -> int:
    """Remove running headers, footers and page numbers from `pages`; the number of spans removed."""

    def key(span: Span) -> str:
        return re.sub(r"\d+", "#", " ".join(span.text.lower().split()))

    # Headings at the top of pages ("Chapter 2") repeat too, but in a larger type.
    limit = body_size(pages) * 1.05

    # A page's first and last lines (when it has a body between them) are headers and footers
    # too, wherever the margins put them.
    edges = {
        page.number: (min(s.top for s in page.spans), max(s.bottom for s in page.spans))
        for page in pages
        if len(_rows(page.spans)) >= 3
    }

    def in_zone(span: Span, page: PageText) -> bool:
        """In the top or bottom tenth of the page, or the page's first or last line."""
        first, last = edges.get(page.number, (-1.0, page.height + 1))
        return span.size <= limit and (
            span.bottom <= page.height * HEADER_ZONE
            or span.top >= page.height * (1 - HEADER_ZONE)
            or span.top <= first + 1
            or span.bottom >= last - 1
        )

    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({key(s) for s in page.spans if in_zone(s, page)})
    # Odd and even pages often carry different headers, so a third of the pages is enough.
    repeats = max(2, round(len(pages) * 0.3)) if len(pages) >= 3 else 10**9
    removed = 0
    for page in pages:
        if all(in_zone(span, page) for span in page.spans):
            continue  # nothing else on the page: its text is content, not a running header
        kept = []
        for span in page.spans:
            if in_zone(span, page) and (
                seen[key(span)] >= repeats or _PAGE_NUMBER.match(span.text.strip())
            ):
                removed += 1
                continue
            kept.append(span)
        page.spans = kept
    return removed


# --- reading order ------------------------------------------------------------------------------


def _rows(spans: list[Span]) -> list[list[Span]]:
    """Spans grouped into visual rows, top to bottom, each row left to right."""
    rows: list[list[Span]] = []
    top = bottom = 0.0  # the last row's extent, kept as spans join it
    for span in sorted(spans, key=lambda s: (s.top, s.x0)):
        if rows:
            overlap = min(bottom, span.bottom) - max(top, span.top)
            if overlap > 0.5 * min(bottom - top, span.height):
                rows[-1].append(span)
                top, bottom = min(top, span.top), max(bottom, span.bottom)
                continue
        rows.append([span])
        top, bottom = span.top, span.bottom
    return [sorted(row, key=lambda s: s.x0) for row in rows]


def _x_columns(spans: list[Span], min_gap: float) -> list[tuple[float, float]]:
    """Connected parts of the spans' projection on the x axis, split at gaps of `min_gap`."""
    parts: list[list[float]] = []
    for span in sorted(spans, key=lambda s: s.x0):
        if parts and span.x0 < parts[-1][1] + min_gap:
            parts[-1][1] = max(parts[-1][1], span.x1)
        else:
            parts.append([span.x0, span.x1])
    return [(a, b) for a, b in parts]


def _y_gaps(spans: list[Span]) -> list[tuple[float, float]]:
    """Empty horizontal bands between the spans' projection on the y axis (start, end)."""
    gaps = []
    ordered = sorted(spans, key=lambda s: s.top)
    bottom = ordered[0].bottom
    for span in ordered[1:]:
        if span.top > bottom:
            gaps.append((bottom, span.top))
        bottom = max(bottom, span.bottom)
    return gaps


def _table(spans: list[Span], page: PageText, unit: float) -> _TableRegion | None:
    """The region as a table, when its spans sit in aligned columns of short cells."""
    rows = _rows(spans)
    if len(rows) < MIN_TABLE_ROWS:
        return None
    columns = _x_columns(spans, unit)
    if len(columns) < 2:
        return None

    # Shares of the text, not of the spans: formulas break lines of prose into many scraps.
    def prose(span: Span) -> bool:
        return span.x1 - span.x0 > 0.3 * page.width or len(span.text.split()) > 2 * MAX_CELL_WORDS

    total = sum(len(s.text) for s in spans)
    if sum(len(s.text) for s in spans if prose(s)) > 0.4 * total:
        return None  # columns of running text
    for x0, x1 in columns:
        inside = [s for s in spans if x0 <= s.x0 and s.x1 <= x1]
        if sum(len(s.text) for s in inside if prose(s)) > 0.5 * sum(len(s.text) for s in inside):
            return None  # a column of running text beside the table
    multi = sum(1 for row in rows if len({_column_of(s, columns) for s in row}) >= 2)
    if multi < 0.6 * len(rows) or multi < 2:
        return None
    cells: list[list[str]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for row in rows:
        values = [""] * len(columns)
        for span in row:
            index = _column_of(span, columns)
            values[index] = _join_words([values[index], span.text]) if values[index] else span.text
        box = (
            min(s.x0 for s in row),
            max(s.x1 for s in row),
            min(s.top for s in row),
            max(s.bottom for s in row),
        )
        # A row with only later columns filled carries on the cells of the row above it.
        if cells and not values[0] and sum(1 for v in values if v) == 1:
            for index, value in enumerate(values):
                if value:
                    above = cells[-1][index]
                    cells[-1][index] = _join_words([above, value]) if above else value
            x0, x1, top, _ = boxes[-1]
            boxes[-1] = (min(x0, box[0]), max(x1, box[1]), top, box[3])
            continue
        cells.append(values)
        boxes.append(box)
    if len(cells) < 2:
        return None
    return _TableRegion(
        rows=cells,
        row_boxes=boxes,
        top=min(b[2] for b in boxes),
        x0=min(b[0] for b in boxes),
        x1=max(b[1] for b in boxes),
        bottom=max(b[3] for b in boxes),
    )


def _column_of(span: Span, columns: list[tuple[float, float]]) -> int:
    center = (span.x0 + span.x1) / 2
    for index, (x0, x1) in enumerate(columns):
        if x0 - 0.5 <= center <= x1 + 0.5:
            return index
    return min(range(len(columns)), key=lambda i: abs((columns[i][0] + columns[i][1]) / 2 - center))


def reading_order(page: PageText, unit: float) -> list[_Line | _TableRegion]:
    """The page's lines and tables in reading order (`unit`: the body text's line height)."""
    items: list[_Line | _TableRegion] = []
    spans = _wide_tables(page, unit)
    if spans:
        frame = (min(s.x0 for s in spans), max(s.x1 for s in spans))
        _cut(spans, page, unit, items, frame, depth=0)
    for item in items:
        if isinstance(item, _TableRegion):
            _snap_to_rules(item, page, unit)
    return items


def _snap_to_rules(table: _TableRegion, page: PageText, unit: float) -> None:
    """Widen a table's box (and its rows') to the lines and cell borders drawn around it."""
    near = [
        rule
        for rule in (page.rule_source() if page.rule_source else [])
        if rule[0] < table.x1
        and rule[1] > table.x0
        and rule[2] >= table.top - 1.5 * unit
        and rule[3] <= table.bottom + 1.5 * unit
        and rule[1] - rule[0] <= 0.95 * page.width
    ]
    if not near:
        return
    table.x0 = min(table.x0, *(r[0] for r in near))
    table.x1 = max(table.x1, *(r[1] for r in near))
    table.top = min(table.top, *(r[2] for r in near))
    table.bottom = max(table.bottom, *(r[3] for r in near))
    boxes = [(table.x0, table.x1, top, bottom) for _, _, top, bottom in table.row_boxes]
    if boxes:
        boxes[0] = (table.x0, table.x1, table.top, boxes[0][3])
        boxes[-1] = (table.x0, table.x1, boxes[-1][2], table.bottom)
    table.row_boxes = boxes


def _wide_tables(page: PageText, unit: float) -> list[Span]:
    """The page's spans with each table that crosses a column gutter replaced by one stand-in.

    A table as wide as the page can leave gaps where the columns of text have their gutter; it is
    found first, as rows of short cells, so the cut between columns does not tear it apart.
    """
    rows = _rows(page.spans)
    # Three cells or more: two short lines side by side are as often the ends of two paragraphs.
    short = [len(row) >= 3 and max(s.x1 - s.x0 for s in row) < 0.3 * page.width for row in rows]
    spans = list(page.spans)
    index = 0
    while index < len(rows):
        if not short[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(rows) and (
            short[end + 1]
            or (end + 2 < len(rows) and short[end + 2] and _within(rows[end + 1], rows[index]))
        ):
            end += 1
        members = [s for row in rows[index : end + 1] for s in row]
        region = _table(members, page, unit) if end - index + 1 >= MIN_TABLE_ROWS else None
        if region is not None and _crosses_gutter(members, page, unit):
            chosen = {id(s) for s in members}
            spans = [s for s in spans if id(s) not in chosen]
            spans.append(
                Span("", region.x0, region.x1, region.top, region.bottom, unit, table=region)
            )
        index = end + 1
    return spans


def _within(row: list[Span], cells: list[Span]) -> bool:
    """A lone span inside the width of a row of cells: a cell's wrapped line."""
    left, right = min(s.x0 for s in cells), max(s.x1 for s in cells)
    return len(row) == 1 and row[0].x0 >= left - 1 and row[0].x1 <= right + 1


def _crosses_gutter(members: list[Span], page: PageText, unit: float) -> bool:
    """Whether the page's other text has a column gutter inside the table's width."""
    chosen = {id(s) for s in members}
    others = [s for s in page.spans if id(s) not in chosen]
    if not others:
        return True
    x0, x1 = min(s.x0 for s in members), max(s.x1 for s in members)
    columns = _x_columns(others, max(unit, 6.0))
    return any(x0 < a < x1 for a, _ in columns[1:])


def _cut(
    spans: list[Span],
    page: PageText,
    unit: float,
    out: list[_Line | _TableRegion],
    frame: tuple[float, float],
    depth: int,
) -> None:
    """Recursive XY cut of one region, appending its lines and tables to `out` in order."""
    if not spans:
        return
    rows = _rows(spans)
    if len(rows) == 1 or depth > 60:
        _emit(rows, out, frame)
        return
    if not any(s.table for s in spans) and _cut_table(rows, page, unit, out, frame):
        return
    columns = _x_columns(spans, max(unit, 6.0))
    if len(columns) >= 2:
        for x0, x1 in columns:
            part = [s for s in spans if x0 <= s.x0 and s.x1 <= x1]
            _cut(part, page, unit, out, (x0, x1), depth + 1)
        return
    gaps = _y_gaps(spans)
    if not gaps:
        _emit(rows, out, frame)
        return
    start, end = max(gaps, key=lambda g: g[1] - g[0])
    if end - start < 0.15 * unit:
        # Nothing but line spacing is left: a single column read top to bottom.
        _emit(rows, out, frame)
        return
    middle = (start + end) / 2
    _cut([s for s in spans if s.bottom <= middle], page, unit, out, frame, depth + 1)
    _cut([s for s in spans if s.bottom > middle], page, unit, out, frame, depth + 1)


def _cut_table(
    rows: list[list[Span]],
    page: PageText,
    unit: float,
    out: list[_Line | _TableRegion],
    frame: tuple[float, float],
) -> bool:
    """Append the region as a table if it is one, and say whether it was.

    A "Table N: …" line on top of the rows or at their foot is the table's caption, not a row:
    the table is first tried without it (a caption as wide as a few columns would otherwise
    merge them into one), and the caption stays a line of its own beside it, to name it.
    """
    head = rows[:1] if len(rows) > MIN_TABLE_ROWS and _caption_row(rows[0]) else []
    rest = rows[len(head) :]
    foot = rest[-1:] if len(rest) > MIN_TABLE_ROWS and _caption_row(rest[-1]) else []
    body = rest[: len(rest) - len(foot)]
    if head or foot:
        table = _table([s for row in body for s in row], page, unit)
        if table is not None:
            _emit(head, out, frame)
            out.append(table)
            _emit(foot, out, frame)
            return True
    table = _table([s for row in rows for s in row], page, unit)
    if table is not None:
        out.append(table)
    return table is not None


def _caption_row(row: list[Span]) -> bool:
    text = _join_words([s.text for s in row])
    return bool(_CAPTION.match(text) and _TABLE_CAPTION.match(text))


def _emit(
    rows: list[list[Span]], out: list[_Line | _TableRegion], frame: tuple[float, float]
) -> None:
    """Rows as lines, and a table's stand-in as the table."""
    for row in rows:
        text = [s for s in row if s.table is None]
        for span in row:
            if span.table is not None:
                out.append(span.table)
        if text:
            out.append(_Line(text, frame))


# --- paragraphs, headings, captions -------------------------------------------------------------


@dataclass
class _Para:
    lines: list[_Line]
    caption: bool = False

    @property
    def text(self) -> str:
        text = ""
        for line in self.lines:
            part = line.text
            if not text:
                text = part
            elif (
                text.endswith("-")
                and not text.endswith(" -")
                or is_cjk(text[-1])
                or is_cjk(part[0])
            ):
                text += part
            else:
                text += " " + part
        return text

    @property
    def size(self) -> float:
        return statistics.median(line.size for line in self.lines)


def body_size(pages: list[PageText]) -> float:
    """The font size most characters are set in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for span in page.spans:
            sizes[round(span.size * 2) / 2] += len(span.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _paragraphs(lines: list[_Line], unit: float) -> list[_Para]:
    paras: list[_Para] = []
    for line in lines:
        text = line.text
        if not text:
            continue
        caption = bool(_CAPTION.match(text))
        last = paras[-1].lines[-1] if paras else None
        if last is not None:
            left, right = last.frame
            if last.x1 - last.x0 < 0.75 * (right - left) and last.x1 < right - 2 * unit:
                paras.append(_Para([line], caption=caption))
                continue  # the line before stops short: it ended its paragraph
        if paras and not caption and _continues(paras[-1], line, unit):
            paras[-1].lines.append(line)
        else:
            paras.append(_Para([line], caption=caption))
    return paras


def _continues(para: _Para, line: _Line, unit: float) -> bool:
    last = para.lines[-1]
    if line.top < last.top - 0.5 * unit or line.top - last.bottom > 0.7 * unit:
        return False
    if abs(line.size - last.size) > 0.15 * max(line.size, last.size):
        return False
    if line.x1 < last.x0 or line.x0 > last.x1:
        return False
    if line.x0 > last.x0 + 0.8 * unit and len(para.lines) > 1:
        return False  # an indented first line
    return not starts_new_paragraph(line.text)


def _heading_levels(paras: list[_Para], body: float) -> dict[int, int]:
    """Index of each heading paragraph and its level (1 = the largest size)."""
    found: dict[int, float] = {}
    for index, para in enumerate(paras):
        text = para.text
        if para.caption or len(para.lines) > 3 or len(text) > 120 or len(text) < 2:
            continue
        if not any(ch.isalpha() for ch in text):
            continue
        size = para.size
        if size >= body * 1.15:
            found[index] = size
        elif all(line.bold for line in para.lines) and heading_level(text) is not None:
            found[index] = body
    sizes = sorted({round(s * 2) / 2 for s in found.values()}, reverse=True)
    return {i: sizes.index(round(s * 2) / 2) + 1 for i, s in found.items()}


# --- the whole document -------------------------------------------------------------------------


def layout_blocks(pages: list[PageText]) -> tuple[list[Block], list[Table]]:
    """Blocks in reading order, with positions and headings, and the tables found on the pages."""
    body = body_size(pages)
    heights = [s.height for p in pages for s in p.spans if abs(s.size - body) < 0.6]
    unit = statistics.median(heights) if heights else body * 1.2
    blocks: list[Block] = []
    tables: list[Table] = []
    for page in pages:
        items = reading_order(page, unit)
        sequence: list[_Para | _TableRegion] = []
        run: list[_Line] = []
        for item in items:
            if isinstance(item, _Line):
                run.append(item)
                continue
            sequence.extend(_paragraphs(run, unit))
            run = []
            sequence.append(item)
        sequence.extend(_paragraphs(run, unit))
        page_blocks, page_tables = _page_blocks(sequence, page, body, unit)
        blocks.extend(page_blocks)
        tables.extend(page_tables)
    return blocks, tables


def _page_blocks(
    sequence: list[_Para | _TableRegion], page: PageText, body: float, unit: float
) -> tuple[list[Block], list[Table]]:
    """Blocks for one page's paragraphs and tables, in order; captions name their tables."""
    paras = [p for p in sequence if isinstance(p, _Para)]
    levels = _heading_levels(paras, body)
    heading_of = {id(p): levels[i] for i, p in enumerate(paras) if i in levels}
    named: dict[int, tuple[Table, int | None]] = {}
    for index, entry in enumerate(sequence):
        if isinstance(entry, _TableRegion):
            named[index] = _to_table(entry, page, sequence, index)
    captions = {caption for _, caption in named.values() if caption is not None}
    blocks: list[Block] = []
    tables: list[Table] = []
    for index, entry in enumerate(sequence):
        if isinstance(entry, _TableRegion):
            table = named[index][0]
            tables.append(table)
            blocks.append(
                Block(
                    "\n".join(" | ".join(c for c in row if c) for row in table.rows),
                    page=page.number,
                    is_table=True,
                    positions=[(page.number, entry.x0, entry.x1, entry.top, entry.bottom)],
                    table=table,
                )
            )
            continue
        if index in captions:
            continue  # the table's name
        positions = _positions(entry, page)
        if entry.caption and not _TABLE_CAPTION.match(entry.text):
            figure = _figure_near(entry, page, unit)
            if figure is not None:
                positions.insert(0, (page.number, *figure))
        blocks.append(
            Block(
                entry.text, page=page.number, heading=heading_of.get(id(entry)), positions=positions
            )
        )
    return blocks, tables


def _positions(para: _Para, page: PageText) -> list[Position]:
    """One box per column the paragraph runs through (usually one)."""
    boxes: list[list[float]] = []
    for line in para.lines:
        if boxes and line.x0 < boxes[-1][1] and line.x1 > boxes[-1][0]:
            box = boxes[-1]
            box[0], box[1] = min(box[0], line.x0), max(box[1], line.x1)
            box[2], box[3] = min(box[2], line.top), max(box[3], line.bottom)
        else:
            boxes.append([line.x0, line.x1, line.top, line.bottom])
    return [(page.number, b[0], b[1], b[2], b[3]) for b in boxes]


def _to_table(
    region: _TableRegion, page: PageText, sequence: list[_Para | _TableRegion], index: int
) -> tuple[Table, int | None]:
    """The region as a Table named by a 'Table N' caption right above or below it, and the
    index of that caption."""
    name, used = "", None
    for neighbour in (index - 1, index + 1):
        if 0 <= neighbour < len(sequence):
            item = sequence[neighbour]
            if isinstance(item, _Para) and item.caption and _TABLE_CAPTION.match(item.text):
                name, used = item.text, neighbour
                break
    table = Table(
        rows=region.rows,
        page=page.number,
        name=name,
        row_positions=[(page.number, *box) for box in region.row_boxes],
    )
    return table, used


def _figure_near(
    para: _Para, page: PageText, unit: float
) -> tuple[float, float, float, float] | None:
    """The picture right above (or else right below) a caption, if there is one."""
    top, bottom = para.lines[0].top, para.lines[-1].bottom
    x0, x1 = min(ln.x0 for ln in para.lines), max(ln.x1 for ln in para.lines)
    best = None
    for fig in page.figures:
        fx0, fx1, ftop, fbottom = fig
        if fx1 < x0 or fx0 > x1:
            continue
        distance = top - fbottom if fbottom <= top + unit else ftop - bottom
        if -unit <= distance <= 4 * unit and (best is None or distance < best[0]):
            best = (distance, fig)
    return best[1] if best else None


def _join_words(parts: list[str]) -> str:
    """Join pieces of one line with spaces, except around CJK text."""
    text = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if text and not (is_cjk(text[-1]) and is_cjk(part[0])):
            text += " "
        text += part
    return text


def display_width(text: str) -> int:
    """Display width: CJK characters are twice as wide as Latin ones."""
    return len(text) + len(CJK_RE.findall(text))
