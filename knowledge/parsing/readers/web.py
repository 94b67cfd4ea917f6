"""HTML: headings, paragraphs, list items and tables, without scripts, styles, navigation or
the page's footer."""

from __future__ import annotations

import re
import warnings

from bs4 import (
    BeautifulSoup,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    ProcessingInstruction,
    Tag,
    XMLParsedAsHTMLWarning,
)

from knowledge.parsing.text import clean_text, one_line, sniff_encoding, table_rows_text
from knowledge.parsing.types import Block, Extracted, Table

_SKIP = frozenset(
    {
        "script",
        "style",
        "nav",
        "noscript",
        "template",
        "head",
        "svg",
        "iframe",
        "button",
        "select",
        "form",
    }
)
# ARIA landmarks that say the same as <nav> (and a search form): Sphinx's sidebar ("Table of
# Contents", "Previous topic", "Next topic", "Show Source") and its "index | modules | next"
# bars are <div role="navigation">, about a sixth of the chunks of a Python documentation page.
# The page's footer ("contentinfo": copyright, licence, "Last updated on …") goes the same way.
_SKIP_ROLES = frozenset({"navigation", "search", "contentinfo"})
# A <footer> inside one of these belongs to it (an article's byline) and is kept; outside all of
# them it is the page's footer. Pages older than <footer> name theirs by class or id (Sphinx:
# <div class="footer">, "© Copyright 2001-2026, Python Software Foundation … Created using
# Sphinx", once per page of Python's documentation), as Readability also reads "footer".
_SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})
# A table summarised as navigation: DocBook's "Prev | Up | Home | Next" header and footer
# (<table summary="Navigation header">, on every page of PostgreSQL's documentation).
_NAVIGATION_SUMMARY = re.compile(r"^\s*navigation\b", re.IGNORECASE)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "ul", "ol", "li",
        "dl", "dt", "dd", "blockquote", "figure", "figcaption", "address", "fieldset", "details",
        "summary", "center", "hr", "caption",
    }
)  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")


def read_html(data: bytes, filename: str) -> Extracted:
    """Blocks in document order; tables become 'header: value' rows and are kept as cells."""
    with warnings.catch_warnings():
        # XHTML (PostgreSQL's documentation) is read as HTML on purpose, as browsers read it.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(decode_html(data), "lxml")
    extracted = Extracted()
    title = soup.title.get_text() if soup.title else ""
    if one_line(title) and not soup.find("h1"):
        extracted.blocks.append(Block(one_line(title), heading=1))
    _Walker(extracted).walk(soup.body or soup)
    return extracted


def decode_html(data: bytes) -> str:
    """UTF-8 (or a BOM) first, then the charset the page declares, then GB18030."""
    encoding = sniff_encoding(data)
    if encoding in (None, "gb18030"):
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"), errors="replace")
            except LookupError:
                pass
    return data.decode(encoding or "latin-1", errors="replace")


def _is_navigation(tag: Tag) -> bool:
    """An element that only leads elsewhere, like <nav>: by its ARIA role, or a table by its
    summary."""
    role = tag.get("role")
    # A role attribute may list fallbacks ("navigation doc-toc"): the first is the element's.
    first = role.lower().split()[:1] if isinstance(role, str) else []
    if first and first[0] in _SKIP_ROLES:
        return True
    summary = tag.get("summary") if tag.name == "table" else None
    return isinstance(summary, str) and bool(_NAVIGATION_SUMMARY.match(summary))


def _is_page_footer(tag: Tag) -> bool:
    """A <footer>, or an element whose class or id is "footer", outside any sectioning element
    or main content: the footer of the page, not of an article in it."""
    classes = tag.get("class")
    named = tag.get("id") == "footer" or (isinstance(classes, list) and "footer" in classes)
    if tag.name != "footer" and not named:
        return False
    return not any(
        parent.name in _SECTIONING or parent.get("role") == "main" for parent in tag.parents
    )


class _Walker:
    """Collects inline text into paragraphs and emits a block at each block-level boundary."""

    def __init__(self, extracted: Extracted) -> None:
        self.extracted = extracted
        self.buffer: list[str] = []

    def walk(self, node: Tag) -> None:
        """Visit the children of `node` in document order."""
        for child in node.children:
            if isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child).replace("\n", " "))
            elif isinstance(child, Tag):
                self.visit(child)

    def visit(self, tag: Tag) -> None:
        """Emit or descend into one element."""
        name = tag.name
        if name in _SKIP or _is_navigation(tag) or _is_page_footer(tag):
            return
        if name in _HEADINGS:
            self.flush()
            text = one_line(tag.get_text(" "))
            if text:
                self.extracted.blocks.append(Block(text, heading=_HEADINGS[name]))
        elif name == "table":
            self.flush()
            self.table(tag)
        elif name == "br":
            self.buffer.append("\n")
        elif name == "pre":
            self.flush()
            self.add(tag.get_text())
        elif name in _BLOCKS:
            self.flush()
            if name == "li":
                self.buffer.append("- ")
            self.walk(tag)
            self.flush(term=name == "dt")
        else:
            self.walk(tag)

    def table(self, tag: Tag) -> None:
        """A table as cells (for the table and qa methods) and as row lines."""
        rows = []
        for tr in tag.find_all("tr"):
            if tr.find_parent("table") is not tag:  # rows of nested tables belong to those
                continue
            cells = [one_line(c.get_text(" ")) for c in tr.find_all(["td", "th"], recursive=False)]
            if any(cells):
                rows.append(cells)
        if rows:
            self.extracted.tables.append(Table(rows))
            self.add("\n".join(table_rows_text(rows)), is_table=True)

    def flush(self, *, term: bool = False) -> None:
        """Turn the collected inline text into a paragraph block (a definition's term when
        `term`: "os.path.getmtime(path)" or "--exclude-table-data=pattern", over its text)."""
        text = "".join(self.buffer)
        self.buffer.clear()
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        text = "\n".join(line for line in lines if line)
        if text and text != "-":
            self.add(text, term=term)

    def add(self, text: str, *, is_table: bool = False, term: bool = False) -> None:
        """Append a block unless it is empty."""
        text = clean_text(text)
        if text:
            self.extracted.blocks.append(Block(text, is_table=is_table, term=term))
