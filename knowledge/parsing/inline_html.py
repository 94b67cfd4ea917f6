"""Raw HTML and badges inside Markdown, reduced to the words a reader sees.

READMEs wrap their text in `<div align="center">`, `<p>` and `<a href>` and open with rows of
badge images; none of that markup belongs in chunk text. Tags are dropped (their text kept),
images become their alt text, a link around an image becomes the image's alt text, comments,
scripts and styles vanish, and character references are decoded. Inline code spans are left
exactly as written.
"""

from __future__ import annotations

import html
import re

# Element names of HTML; anything else in angle brackets (`Vec<u8>`, `<name>`) is left alone.
_ELEMENT_NAMES = """a abbr acronym address area article aside audio b bdi bdo big blockquote
    body br button caption center cite code col colgroup data dd del details dfn dialog div dl dt em embed
    fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe
    img input ins kbd label legend li link main map mark meta meter nav noscript object ol
    optgroup option output p param picture pre progress q rp rt ruby s samp section select
    small source span strike strong sub summary sup table tbody td template textarea tfoot th
    thead time title tr track tt u ul var video wbr"""
_ELEMENTS = frozenset(_ELEMENT_NAMES.split())
# Elements that end a line of text where they open or close.
_LINE_BREAKING_NAMES = """address article aside blockquote body br caption center details dialog
    div dd dl dt fieldset figcaption figure footer h1 h2 h3 h4 h5 h6 header hr html li main nav ol p
    picture pre section summary table tbody tfoot thead tr ul"""
_LINE_BREAKING = frozenset(_LINE_BREAKING_NAMES.split())
# Elements whose content is not text for a reader.
_DROPPED = re.compile(
    r"<(script|style|svg|noscript|template|iframe|object)\b[^>]*>.*?</\1\s*>", re.I | re.S
)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ATTRS = r"""(?:[^<>"']|"[^"]*"|'[^']*')*"""
_TAG = re.compile(rf"</?([A-Za-z][A-Za-z0-9]*)(?=[\s/>]){_ATTRS}>")
_IMG = re.compile(rf"<img\b{_ATTRS}>", re.I)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_HEADING = re.compile(rf"<h([1-6])\b{_ATTRS}>(.*?)</h\1\s*>", re.I | re.S)
# Markdown images: ![alt](src "title") and ![alt][ref]; a link around one is a badge.
_MD_IMAGE = r"!\[([^\[\]]*)\](?:\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)|\[[^\[\]]*\])"
_MD_BADGE = re.compile(
    rf"\[\s*{_MD_IMAGE}\s*\](?:\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)|\[[^\[\]]*\])"
)
_MD_IMAGE_RE = re.compile(_MD_IMAGE)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_INNER_SPACES = re.compile(r"(?<=\S)[ \t]{2,}")


def has_markup(text: str) -> bool:
    """Whether `text` holds anything `strip_markup` would change."""
    return "<" in text or "&" in text or "![" in text


def strip_markup(text: str, *, line_breaks: bool = True) -> str:
    """`text` without HTML tags, comments or badges; alt text, link text and code spans kept.

    With `line_breaks`, block elements (`<p>`, `<div>`, `<br>` …) end lines; without it
    (a table row, a heading) they become spaces. Lines left empty are dropped.
    """
    if not has_markup(text):
        return text
    parts = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_strip_prose(text[last : span.start()], line_breaks))
        parts.append(span.group(0))
        last = span.end()
    parts.append(_strip_prose(text[last:], line_breaks))
    result = "".join(parts)
    if result == text:
        return text
    lines = (_INNER_SPACES.sub(" ", line).strip() for line in result.split("\n"))
    return "\n".join(line for line in lines if line)


def split_headings(text: str) -> list[tuple[str, int | None]]:
    """`text` cut at HTML headings (`<h1 align="center">Name</h1>`): (text, level or None)."""
    if "<h" not in text and "<H" not in text:
        return [(text, None)]
    text = _COMMENT.sub("", text)
    code = [span.span() for span in _CODE_SPAN.finditer(text)]
    pieces: list[tuple[str, int | None]] = []
    last = 0
    for match in _HEADING.finditer(text):
        if any(start <= match.start() < end for start, end in code):
            continue
        pieces.append((text[last : match.start()], None))
        pieces.append((match.group(2), int(match.group(1))))
        last = match.end()
    pieces.append((text[last:], None))
    return pieces


def _strip_prose(text: str, line_breaks: bool) -> str:
    """Markup removed from text that holds no code span."""
    text = _COMMENT.sub("", text)
    text = _DROPPED.sub("", text)
    text = _IMG.sub(_alt_text, text)
    text = _MD_BADGE.sub(lambda m: m.group(1), text)
    text = _MD_IMAGE_RE.sub(lambda m: m.group(1), text)
    separator = "\n" if line_breaks else " "

    def tag(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        if name not in _ELEMENTS:
            return match.group(0)
        return separator if name in _LINE_BREAKING else ""

    text = _TAG.sub(tag, text)
    return html.unescape(text)


def _alt_text(match: re.Match[str]) -> str:
    """The alt text of an `<img>` tag, or nothing."""
    alt = _ALT.search(match.group(0))
    if not alt:
        return ""
    value = next(group for group in alt.groups() if group is not None)
    return f" {value} " if value.strip() else ""
