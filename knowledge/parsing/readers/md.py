"""Markdown: headings (ATX and setext) become structure; fenced code and tables stay whole.

Raw HTML and badges outside code are reduced to their text (see `inline_html`).
"""

from __future__ import annotations

import re

from knowledge.parsing.front_matter import split_front_matter
from knowledge.parsing.inline_html import split_headings, strip_markup
from knowledge.parsing.text import decode_text, one_line
from knowledge.parsing.types import Block, Extracted, Table

_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def read_markdown(data: bytes, filename: str) -> Extracted:
    """Blocks for headings, paragraphs, code and tables; tables are also kept as cells.

    A YAML front matter block becomes the document's metadata, not text.
    """
    front_matter, text = split_front_matter(decode_text(data, filename))
    lines = text.split("\n")
    extracted = Extracted(metadata=front_matter or {})
    paragraph: list[str] = []

    def flush() -> None:
        """End the paragraph being collected; an HTML heading inside it becomes a heading."""
        if any(line.strip() for line in paragraph):
            for piece, level in split_headings("\n".join(paragraph).strip("\n")):
                if level is not None:
                    add_heading(piece, level)
                elif piece := strip_markup(piece):
                    extracted.blocks.append(Block(piece))
        paragraph.clear()

    def add_heading(text: str, level: int) -> None:
        """A heading block, unless the heading is only markup."""
        text = one_line(strip_markup(text, line_breaks=False))
        if text:
            extracted.blocks.append(Block(text, heading=level))

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            flush()
            end = index + 1
            while end < len(lines) and not lines[end].lstrip().startswith(fence.group(1)):
                end += 1
            extracted.blocks.append(Block("\n".join(lines[index : end + 1])))
            index = end + 1
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:
            flush()  # a comment across blank lines: skip to its end
            end = index + 1
            while end < len(lines) and "-->" not in lines[end]:
                end += 1
            rest = lines[end].split("-->", 1)[1] if end < len(lines) else ""
            if rest.strip():
                paragraph.append(rest)
            index = end + 1
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            add_heading(atx.group(2), len(atx.group(1)))
            index += 1
            continue
        if (
            len(paragraph) == 1
            and paragraph[0].strip()
            and _SETEXT.match(line)
            and not _TABLE_RULE.match(paragraph[0])
        ):
            heading = paragraph.pop()
            flush()
            add_heading(heading, 1 if line.strip()[0] == "=" else 2)
            index += 1
            continue
        if "|" in line and index + 1 < len(lines) and _TABLE_RULE.match(lines[index + 1]):
            flush()
            end = index + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            table = [strip_markup(row, line_breaks=False) for row in lines[index:end]]
            rows = [_cells(row) for row in table if not _TABLE_RULE.match(row)]
            extracted.tables.append(Table(rows))
            extracted.blocks.append(Block("\n".join(table), is_table=True))
            index = end
            continue
        if not line.strip():
            flush()
        else:
            paragraph.append(line)
        index += 1
    flush()
    return extracted


def _cells(row: str) -> list[str]:
    """Cell text of one pipe-table row."""
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row)]
