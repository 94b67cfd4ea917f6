"""Citation markers: `[ID:n]`, n being the chunk's index in the answer's reference."""

from __future__ import annotations

import re
from collections.abc import Sequence

from knowledge import fulltext

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
