"""Recognising headings in plain lines: numbered ("1.2 Scope"), Chinese ("第一章"), named
("Chapter 2", "Section 3", "Article 5") and the usual section names of papers."""

from __future__ import annotations

import re

from knowledge.parsing.tokens import count_tokens

_CN = r"[一二三四五六七八九十百千零〇两\d]+"
# Levels nest: part (1) > chapter (2) > section (3) > numbered 1. (3), 1.1 (4) … > (一) (4).
_DIVISIONS = (
    (re.compile(rf"^第{_CN}(?:编|部分)(?:\s|$)"), 1),
    (re.compile(rf"^第{_CN}章"), 2),
    (re.compile(rf"^第{_CN}节"), 3),
    (re.compile(r"^part\s+(?:[ivxlc]+|\d+)\b", re.IGNORECASE), 1),
    (re.compile(r"^chapter\s+(?:[ivxlc]+|\d+)\b", re.IGNORECASE), 2),
    (re.compile(r"^section\s+\d+(?:\.\d+)*\b", re.IGNORECASE), 3),
)
_ENUMERATIONS = (
    (re.compile(r"^[一二三四五六七八九十]+、"), 3),
    (re.compile(r"^[（(][一二三四五六七八九十]+[)）]"), 4),
)
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+([^\d\s].*)$")
# "第三条规定的…" at the start of a line is a reference, so the article number must be followed
# by a space, a colon or the end of the line.
ARTICLE_RE = re.compile(
    rf"^\s*(第{_CN}条(?=[\s:：]|$)|Article\s+\d+[a-z]?\b|ARTICLE\s+\d+[A-Z]?\b"
    r"|Art\.\s*\d+[a-z]?\b|§\s*\d+[a-z]?)"
)
_BULLET = re.compile(r"^(?:[-•●▪*·]\s|\(?[a-z\d]{1,2}[.)]\s)")
_SENTENCE_END = tuple("。，,；;、.!?！？")
_KNOWN_SECTIONS = frozenset(
    {
        "abstract", "introduction", "related work", "background", "method", "methods",
        "methodology", "experiments", "experiment", "results", "evaluation", "discussion",
        "conclusion", "conclusions", "references", "bibliography", "acknowledgements",
        "acknowledgments", "appendix", "摘要", "摘 要", "引言", "前言", "结论", "参考文献", "致谢",
        "附录",
    }
)  # fmt: skip
MAX_HEADING_CHARS = 80


def heading_level(line: str) -> int | None:
    """The heading level of a line that looks like a heading on its own, else None."""
    line = line.strip()
    if not line or len(line) > MAX_HEADING_CHARS or "\n" in line:
        return None
    if line.lower().rstrip(" :：.") in _KNOWN_SECTIONS:
        return 3
    if line.endswith(_SENTENCE_END):
        return None
    for pattern, level in _DIVISIONS + _ENUMERATIONS:
        if pattern.match(line):
            return level
    numbered = _NUMBERED.match(line)
    if numbered and count_tokens(numbered.group(2)) <= 15:
        return 2 + numbered.group(1).count(".") + 1
    return None


def starts_new_paragraph(line: str) -> bool:
    """A line that begins a heading, an article or a list item rather than continuing text."""
    return heading_level(line) is not None or bool(ARTICLE_RE.match(line) or _BULLET.match(line))


def division_level(line: str) -> int | None:
    """The level of a part, chapter or section heading ("第二章 …", "Chapter 2"), else None."""
    line = line.strip()
    if not line or len(line) > MAX_HEADING_CHARS or line.endswith(_SENTENCE_END):
        return None
    for pattern, level in _DIVISIONS:
        if pattern.match(line):
            return level
    return None


def article_label(line: str) -> str | None:
    """'第三条' or 'Article 3' when the line starts an article, else None."""
    match = ARTICLE_RE.match(line)
    return " ".join(match.group(1).split()) if match else None
