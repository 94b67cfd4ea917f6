"""The keyword side of a chunk: jieba segmentation so Chinese and English both match.

PostgreSQL's parsers keep an unsegmented CJK run as one token (`知识库检索` never matches
`检索`), so text is segmented here and stored as space-separated tokens; the `simple`
configuration then indexes them without stemming or stop-words (infra.md §5).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"\s+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$", re.UNICODE)


@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Lower-cased search tokens: jieba's search-mode cut, punctuation dropped."""
    words = _jieba().cut_for_search(text.lower())
    return [w for w in (w.strip() for w in words) if w and not _PUNCT_ONLY.match(w)]


def segment(text: str) -> str:
    """Space-joined tokens, RAGFlow's `content_ltks`."""
    return _SPACES.sub(" ", " ".join(tokens(text))).strip()


def segment_many(parts: Iterable[str]) -> str:
    return " ".join(filter(None, (segment(part) for part in parts)))
