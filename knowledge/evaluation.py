"""Retrieval evaluation: how well a ranking finds what a question should find. Pure functions.

A question names the chunks or documents that answer it. A ranked list of hits is judged at
document level when the question names documents only (the first chunk of each document counts,
later ones are skipped), at chunk level when it names chunks; relevance is binary. nDCG@k and
recall@k are the usual ones; a question with nothing relevant in the top k scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

K = 10


@dataclass(frozen=True)
class Judgement:
    """What should come back for one question."""

    document_ids: frozenset[str] = frozenset()
    chunk_ids: frozenset[str] = frozenset()

    @property
    def chunk_level(self) -> bool:
        return bool(self.chunk_ids)

    @property
    def relevant_count(self) -> int:
        return len(self.chunk_ids) if self.chunk_level else len(self.document_ids)


@dataclass(frozen=True)
class RankedHit:
    chunk_id: str
    document_id: str
    similarity: float


@dataclass(frozen=True)
class Score:
    ndcg: float
    recall: float
    reciprocal_rank: float
    # 1-based position of the first relevant item in the judged list, None if not in the top k.
    first_relevant: int | None
    returned: int


@dataclass
class Summary:
    ndcg: float = 0.0
    recall: float = 0.0
    mrr: float = 0.0
    empty_share: float = 0.0
    questions: int = 0
    scores: list[Score] = field(default_factory=list)


def judged_items(hits: Iterable[RankedHit], judgement: Judgement) -> list[tuple[str, bool]]:
    """The ranked items the judgement is about, each with whether it is relevant."""
    if judgement.chunk_level:
        return [(h.chunk_id, h.chunk_id in judgement.chunk_ids) for h in hits]
    seen: set[str] = set()
    items: list[tuple[str, bool]] = []
    for hit in hits:
        if hit.document_id in seen:
            continue
        seen.add(hit.document_id)
        items.append((hit.document_id, hit.document_id in judgement.document_ids))
    return items


def score(hits: Sequence[RankedHit], judgement: Judgement, *, k: int = K) -> Score:
    top = judged_items(hits, judgement)[:k]
    gains = [1.0 if relevant else 0.0 for _, relevant in top]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, judgement.relevant_count)))
    first = next((i + 1 for i, g in enumerate(gains) if g), None)
    total = judgement.relevant_count
    return Score(
        ndcg=dcg / ideal if ideal else 0.0,
        recall=sum(gains) / total if total else 0.0,
        reciprocal_rank=1 / first if first else 0.0,
        first_relevant=first,
        returned=len(top),
    )


def summarise(scores: Sequence[Score]) -> Summary:
    n = len(scores)
    if not n:
        return Summary()
    return Summary(
        ndcg=sum(s.ndcg for s in scores) / n,
        recall=sum(s.recall for s in scores) / n,
        mrr=sum(s.reciprocal_rank for s in scores) / n,
        empty_share=sum(1 for s in scores if s.returned == 0) / n,
        questions=n,
        scores=list(scores),
    )


def above(hits: Iterable[RankedHit], threshold: float) -> list[RankedHit]:
    """The hits a retrieval with `similarity_threshold = threshold` would keep, in order."""
    return [h for h in hits if h.similarity >= threshold]
