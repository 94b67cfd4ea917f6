"""Citation markers: `[ID:n]`, n being the chunk's index in the answer's reference."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from knowledge import fulltext

T = TypeVar("T")

CITATION = re.compile(r"\[ID:(\d+)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
# A sentence cites a chunk when at least this share of its terms appear in the chunk.
MIN_OVERLAP = 0.5


def has_citations(text: str) -> bool:
    return bool(CITATION.search(text))


def insert_citations(answer: str, chunks: Sequence[str]) -> str:
    """Append ` [ID:n]` to each sentence of `answer` that clearly comes from chunk n.

    For models that did not cite on their own; lexical overlap keeps it cheap and explainable.
    """
    if not chunks or not answer.strip():
        return answer
    chunk_terms = [set(fulltext.tokens(chunk)) for chunk in chunks]
    pieces = [p for p in _SENTENCE_END.split(answer) if p]
    out: list[str] = []
    for piece in pieces:
        terms = set(fulltext.tokens(piece))
        best, best_share = -1, 0.0
        if len(terms) >= 3:
            for index, candidate in enumerate(chunk_terms):
                share = len(terms & candidate) / len(terms)
                if share > best_share:
                    best, best_share = index, share
        out.append(f"{piece} [ID:{best}]" if best >= 0 and best_share >= MIN_OVERLAP else piece)
    joiner = "\n" if "\n" in answer else " "
    return joiner.join(out)


def cited_indexes(answer: str) -> list[int]:
    return sorted({int(n) for n in CITATION.findall(answer)})


# The longest text that may still grow into a marker: "[", "[I", "[ID", "[ID:", "[ID:12".
_MARKER_PREFIX = re.compile(r"\[(?:I(?:D(?::\d*)?)?)?\Z")


class AnswerOrder:
    """Renumbers `[ID:n]` markers so that an answer cites 0, 1, 2, … from its start.

    n is the chunk's index in the retrieval order; the first chunk the answer cites becomes 0,
    the next new one 1, and so on (the reference is reordered to match with `reorder`). Works
    on a stream: `feed` returns the text that is safe to send, holding back a marker cut in
    two; `flush` returns what is held at the end. Markers for chunks that do not exist
    (n ≥ count) are dropped.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.cited: list[int] = []  # original indexes, in answer order
        self._held = ""

    def _renumber(self, match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= self.count:
            return ""
        if index not in self.cited:
            self.cited.append(index)
        return f"[ID:{self.cited.index(index)}]"

    def feed(self, delta: str) -> str:
        text = self._held + delta
        tail = _MARKER_PREFIX.search(text)
        cut = tail.start() if tail else len(text)
        self._held = text[cut:]
        return CITATION.sub(self._renumber, text[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return CITATION.sub(self._renumber, held)

    def text(self, answer: str) -> str:
        """A whole answer renumbered (continuing the numbering of what was fed)."""
        return CITATION.sub(self._renumber, answer)

    def reorder(self, items: Sequence[T]) -> list[T]:
        """`items` (one per chunk, retrieval order) with the cited ones first, in answer order."""
        rest = [item for index, item in enumerate(items) if index not in set(self.cited)]
        return [items[i] for i in self.cited if i < len(items)] + rest
