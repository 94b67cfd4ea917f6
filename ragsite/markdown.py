"""Markdown as the pages show it: answers, agent replies, chunks and retrieval hits.

`render_markdown` turns untrusted Markdown (which may hold raw HTML) into HTML that is safe to
put in a page: markdown-it-py renders it (CommonMark, with tables and strikethrough), then nh3
(the Rust ammonia sanitizer) keeps only the tags and attributes listed below. Links keep only
http, https and mailto URLs and open in a new tab without a referrer. Two things are added after
sanitizing, to the text only, never inside a tag: citation markers (`[ID:n]` in answers) become
circled-number buttons, and search terms are wrapped in <mark>.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache

import nh3
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "b", "em", "i", "del", "s", "code", "kbd", "pre", "blockquote", "sup", "sub",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td", "a", "mark",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"

# Private-use characters stand in for citation markers while the text goes through markdown-it
# and nh3 (both leave them alone); the source's own are removed first so none can be forged.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINELS = re.compile("[\ue000\ue001]")
# nh3's output is html5ever's serialization: a "<" in text is always "&lt;", and attribute
# values are double-quoted with any '"' escaped. So this splits it into tags and text exactly.
_TAG = re.compile(r'<(?:[^">]|"[^"]*")*>')
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
# A run of markers and the word before it (the word "hugs" them, so they never wrap alone).
_CITED = re.compile(rf"(\S*?)( *)((?:{_OPEN}\d+{_CLOSE} *)*{_OPEN}\d+{_CLOSE})")
_PLACEHOLDER = re.compile(rf"{_OPEN}(\d+){_CLOSE}")


@dataclass(frozen=True)
class Cite:
    """How one cited chunk's marker shows: its number and the passage panel it opens."""

    number: int  # from 1, in the order the answer first cites the chunks
    controls: str  # the id of the panel with the passage
    label: str  # the button's accessible name, e.g. "Source 1"

    @property
    def circled(self) -> str:
        return circled(self.number)


def circled(number: int) -> str:
    """①…⑳, ㉑…㊿ for 1–50; the plain number beyond."""
    if 1 <= number <= 20:
        return chr(0x2460 + number - 1)
    if 21 <= number <= 35:
        return chr(0x3251 + number - 21)
    if 36 <= number <= 50:
        return chr(0x32B1 + number - 36)
    return str(number)


@cache
def _parser() -> MarkdownIt:
    # "breaks": a single newline is a line break, as answers and chunks were shown so far.
    parser = MarkdownIt("commonmark", {"html": True, "breaks": True})
    parser.enable(["table", "strikethrough"])
    # No images (no tracking pixels, no broken pictures): "![alt](url)" shows as a link.
    parser.disable("image")
    return parser


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative="deny",  # a relative link in a document points nowhere on this site
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties={"text-align"},  # table column alignment only
    )


def render_markdown(
    text: str,
    *,
    markers: re.Pattern[str] | None = None,
    cites: Mapping[str, Cite] | None = None,
    marks: Collection[str] = (),
) -> SafeString:
    """`text` (Markdown, raw HTML allowed) as sanitized HTML.

    `markers` matches citation markers whose group 1 is the chunk's key: those in `cites`
    become buttons, the others are dropped. `marks` are search terms to wrap in <mark>
    (whole words for Latin letters and digits, anywhere for other scripts).
    """
    source = _SENTINELS.sub("", text)
    if markers is not None:
        source = markers.sub(lambda m: f"{_OPEN}{int(m.group(1))}{_CLOSE}", source)
    html = _cleaner().clean(_parser().render(source))
    if marks:
        pattern = _terms_pattern(marks)
        if pattern is not None:
            html = _in_text(html, lambda part: _mark(part, pattern))
    if markers is not None:
        html = _in_text(html, lambda part: _CITED.sub(lambda m: _cite_group(m, cites or {}), part))
    return mark_safe(html.strip())  # noqa: S308 - sanitized by nh3, additions escaped


def _in_text(html: str, change: Callable[[str], str]) -> str:
    """`html` with `change` applied to each run of text between its tags."""
    out: list[str] = []
    position = 0
    for tag in _TAG.finditer(html):
        out.append(change(html[position : tag.start()]))
        out.append(tag.group())
        position = tag.end()
    out.append(change(html[position:]))
    return "".join(out)


def _terms_pattern(terms: Collection[str]) -> re.Pattern[str] | None:
    useful = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not useful:
        return None
    parts = [
        rf"\b{re.escape(str(escape(t)))}\b" if t.isascii() and t[0].isalnum() else re.escape(t)
        for t in useful
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def _mark(text: str, pattern: re.Pattern[str]) -> str:
    # Entities ("&amp;") are left whole: a term must not match inside one.
    out: list[str] = []
    position = 0
    for entity in _ENTITY.finditer(text):
        out.append(pattern.sub(r"<mark>\g<0></mark>", text[position : entity.start()]))
        out.append(entity.group())
        position = entity.end()
    out.append(pattern.sub(r"<mark>\g<0></mark>", text[position:]))
    return "".join(out)


def _cite_group(match: re.Match[str], cites: Mapping[str, Cite]) -> str:
    word, run = match.group(1), match.group(3)
    buttons = [
        format_html(
            '<sup class="cite"><button type="button" class="cite__button" aria-expanded="false"'
            ' aria-controls="{}" aria-label="{}" data-cite="{}">{}</button></sup>',
            cite.controls,
            cite.label,
            cite.number,
            cite.circled,
        )
        for key in _PLACEHOLDER.findall(run)
        if (cite := cites.get(key)) is not None
    ]
    if not buttons:  # markers without their chunk are dropped, with the spaces before them
        return word
    # `word` is already HTML (escaped text) from nh3's output.
    return f'<span class="cite-hug">{word}{"".join(buttons)}</span>'
