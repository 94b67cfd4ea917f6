"""Decoding bytes to text and tidying text; shared by readers, chunkers and filetypes."""

from __future__ import annotations

import codecs
import html
import re

from knowledge.parsing.types import ParseError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Tried in order for text without a BOM; GB18030 is a superset of GBK/GB2312 (Chinese files).
_FALLBACKS = ("utf-8", "gb18030")
# Control characters other than tab and newline (form feeds become newlines first).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_BLANK_LINES_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_TRAILING_SPACE_RE = re.compile(r"[ \t\u3000]+\n")


def sniff_encoding(data: bytes, *, partial: bool = False) -> str | None:
    """The encoding `data` decodes with (BOM, then UTF-8, then GB18030), or None.

    With `partial`, `data` may be the start of a longer file, cut inside a character.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    for encoding in _FALLBACKS:
        try:
            codecs.getincrementaldecoder(encoding)().decode(data, final=not partial)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def decode_text(data: bytes, filename: str) -> str:
    """Text of a text file: UTF-8 with or without BOM, UTF-16/32 with BOM, or GB18030."""
    encoding = sniff_encoding(data)
    if encoding is None:
        raise ParseError(
            f"{filename} is not readable text: it is not UTF-8, UTF-16 (with a byte-order mark) "
            "or GB18030. Save it as UTF-8 and upload it again."
        )
    return clean_text(data.decode(encoding))


def clean_text(text: str) -> str:
    """Normalise newlines, drop NUL and other control characters, collapse blank-line runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    text = _CONTROL_RE.sub("", text)
    text = _TRAILING_SPACE_RE.sub("\n", text)
    return _BLANK_LINES_RE.sub("\n\n", text).strip()


def row_text(headers: list[str], values: list[str]) -> str:
    """A table row as 'header: value; …', skipping empty cells; unnamed columns show bare values."""
    parts = []
    for index, value in enumerate(values):
        if not value:
            continue
        header = headers[index] if index < len(headers) and headers[index] else ""
        parts.append(f"{header}: {value}" if header else value)
    return "; ".join(parts)


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


def table_rows_text(rows: list[list[str]]) -> list[str]:
    """Lines for a table: 'header: value; …' per row under the first row, or the lone row."""
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    if len(rows) == 1:
        return [" | ".join(cell for cell in rows[0] if cell)]
    headers = rows[0]
    return [line for line in (row_text(headers, row) for row in rows[1:]) if line]


_TABLE_CELL_END = re.compile(r"\s*</t[dh]>\s*", re.IGNORECASE)
_TABLE_ROW_END = re.compile(r"\s*(?:</tr>|</caption>)\s*", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,200}>")


def searchable_text(content: str) -> str:
    """A chunk's text for search and embedding: an HTML table's cells as 'a | b' lines.

    RAGFlow stores a table chunk as HTML and indexes it with its tags taken out; the tags are
    not words anyone searches for.
    """
    if "<table" not in content.lower():
        return content
    text = _TABLE_CELL_END.sub(" | ", content)
    text = _TABLE_ROW_END.sub("\n", text)
    text = html.unescape(_TAG.sub(" ", text))
    lines = (" ".join(line.split()).strip(" |") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def markdown_tables(content: str) -> str:
    """A chunk's HTML tables as Markdown ones (caption line, header, rule, rows), for readers
    of chunk text that understand Markdown tables; other text is left as it is."""
    if "<table" not in content.lower():
        return content

    def table(match: re.Match[str]) -> str:
        body = match.group(0)
        caption = re.search(r"<caption>(.*?)</caption>", body, re.S | re.IGNORECASE)
        lines = [_cell_text(caption.group(1))] if caption else []
        for index, row in enumerate(re.findall(r"<tr>(.*?)</tr>", body, re.S | re.IGNORECASE)):
            cells = [
                _cell_text(c).replace("|", "/")
                for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", row, re.S | re.IGNORECASE)
            ]
            lines.append("| " + " | ".join(cells) + " |")
            if index == 0:
                lines.append("|" + "|".join(" --- " for _ in cells) + "|")
        return "\n" + "\n".join(lines) + "\n"

    return re.sub(r"<table>.*?</table>", table, content, flags=re.S | re.IGNORECASE).strip()


def _cell_text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())
