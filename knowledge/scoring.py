"""How retrieval scores candidates: BM25 over the question's terms, scaled cosines, and the mix.

knowledge.retrieval fetches candidates (the only module with pgvector SQL); this module turns
each candidate's text and cosine into the contract's scores (§4.6):
    similarity = w × vector_similarity + (1 − w) × term_similarity
with both parts in 0..1. See knowledge.retrieval's docstring for what each part means and
what the benchmarks measured. Two adjustments keep that sum true of the parts each hit reports:
in a hybrid ranking a chunk's parts move toward 1 by the evidence of other chunks of its
document (DOCUMENT_EVIDENCE), and when even the nearest chunk is far from the question every
part is scaled down (UNRELATED_BEST, CONFIDENT_BEST), so that a question nothing answers stays
under the default threshold.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from knowledge import crosslingual, fulltext

# BM25 parameters (the usual ones); keywords and questions count as this many occurrences.
K1 = 1.2
B = 0.75
KEYWORD_BOOST = 3
# How cosines enter the weighted sum: "max" (divided by the best candidate's), "minmax", "raw".
VECTOR_SCALING = "max"
# Whether an English search term also matches its inflected forms (fulltext.variants).
INFLECTIONS = True
# "max" divides by the best cosine but never by less than this: when even the best candidate
# is not close, the question has no good semantic match and its cosines stay low.
VECTOR_FLOOR = 0.5
# "max" measures cosines from this baseline: (cosine − baseline) / (scale − baseline), so a
# cosine at the baseline (about what unrelated text scores with small models) counts 0, not
# baseline / scale. Max scaling alone left the vector parts of a question's candidates within
# ~0.15 of each other while term parts spread over 0..1, so in a hybrid ranking a wrong page
# holding the question's words outranked the page that says the same in other words.
# bench/real_docs dev, hybrid nDCG@10 by baseline 0 / 0.05 / 0.1 / 0.15 / 0.2 / 0.3:
# 0.934 / 0.939 / 0.941 / 0.938 / 0.936 / 0.921 (test at 0.1: 0.9205 -> 0.9209, no-answer
# questions still all under 0.2); bench/retrieval_quality hybrid 0.855 -> 0.853.
VECTOR_BASELINE = 0.1
# In a hybrid ranking, one term's BM25 frequency factor counts up to this (one occurrence at
# average length): the term side then says how much of the question a chunk covers, and the
# embedding (which repetition already pulls toward a term) judges the rest. bench/real_docs dev:
# hybrid 0.916 -> 0.928; bench/retrieval_quality: 0.826 -> 0.857. The keyword leg alone
# (weight 0) ranks by full BM25. None: no cap.
HYBRID_TF_CAP: float | None = 1.0
# In a hybrid ranking an English gloss of a Chinese question's word (knowledge.crosslingual)
# counts this share of its IDF: a dictionary rendering is a guess at the words a page uses, the
# embedding of the whole rendering judges meaning better (the normaliser keeps its full weight,
# so a chunk matched by glosses alone reads as a partial match). The keyword leg alone keeps
# BM25's full weights. bench/real_docs dev, hybrid by weight 1 / 0.7 / 0.5 / 0.3: 0.957 / 0.961
# / 0.968 / 0.967 (test at 0.5: 0.929 -> 0.941, Chinese 0.886 -> 0.917).
TRANSLATED_TERM_WEIGHT = 0.5
# In a hybrid ranking a chunk also counts the evidence of its document: s + λ × other × (1 − s),
# where `other` is the best score of another chunk of the same document (stays in 0..1 and keeps
# the order of chunks within a document). bench/real_docs dev: hybrid 0.927 -> 0.935
# (test 0.909 -> 0.921). 0: off.
DOCUMENT_EVIDENCE = 0.5
# Whether a question is answered at all: with cosines scaled by max(best, VECTOR_FLOOR), the best
# scaled cosine says how close the nearest chunk is (1 from a cosine of VECTOR_FLOOR up). Below
# CONFIDENT_BEST every similarity is scaled down linearly, to 0 at UNRELATED_BEST, so a question
# nothing answers stays under the default threshold 0.2 however many of its words some chunk
# holds. Uniform per question: the ranking does not change. MiniLM on bench/real_docs: best
# cosine 0.14-0.29 for questions the corpus does not answer, 0.22-0.84 for those it does.
UNRELATED_BEST = 0.3
CONFIDENT_BEST = 0.7


def idf(df: int, n: int) -> float:
    """BM25's IDF, always positive."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class TermGroup:
    """One term of the question: its alternatives (a word, or a Chinese word's English
    glosses) score as one, by the best-scoring alternative a chunk holds."""

    alternatives: tuple[str, ...]
    # Written in the question (not a translation): counts in the normaliser even when absent.
    original: bool = True


def question_groups(question: str) -> list[TermGroup]:
    """The question's terms; an English word also matches its inflected forms, and a Chinese
    question also searches its words' English glosses."""
    groups = [
        TermGroup((t, *fulltext.variants(t)) if INFLECTIONS else (t,))
        for t in fulltext.query_terms(question)
    ]
    if crosslingual.has_cjk(question):
        groups += [TermGroup(g, original=False) for g in crosslingual.gloss_groups(question)]
    return groups


@dataclass
class TermScorer:
    """BM25 of chunks for one question, scaled to 0..1 (see the module docstring)."""

    groups: list[TermGroup]
    idf: dict[str, float]
    # The score of a chunk holding each term once at average length: the sum of the groups' IDF.
    attainable: float
    _needles: list[tuple[tuple[str, float], ...]] = field(init=False, repr=False, compare=False)
    _hybrid_needles: list[tuple[tuple[str, float], ...]] = field(
        init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, groups: list[TermGroup], df: dict[str, int], n: int) -> TermScorer:
        weights = {t: idf(df.get(t, 0), n) for g in groups for t in g.alternatives}
        present = [g for g in groups if any(df.get(t, 0) > 0 for t in g.alternatives)]
        translated = any(not g.original for g in groups)
        attainable = sum(
            max(weights[t] for t in g.alternatives if df.get(t, 0) > 0) for g in present
        )
        # A searched word no chunk holds still makes every chunk a worse match. After a
        # translation the Chinese words themselves are expected to be missing from English
        # chunks (their glosses stand for them), but a gloss no chunk holds is missing too;
        # when chunks hold the question's Chinese words, the glosses are only extras.
        chinese_found = any(g.original and crosslingual.has_cjk(g.alternatives[0]) for g in present)
        attainable += sum(
            weights[g.alternatives[0]]
            for g in groups
            if g not in present and (not translated or (not g.original and not chinese_found))
        )
        # Only alternatives some chunk holds can score (inflections are guesses).
        kept = [
            TermGroup(tuple(t for t in g.alternatives if df.get(t, 0) > 0), g.original)
            for g in present
        ]
        return cls(kept, weights, attainable)

    def __post_init__(self) -> None:
        # Per group, each alternative as the " term " SegmentedText counts, with its IDF: built
        # once per question instead of once per chunk and term.
        self._needles = [
            tuple((f" {t} ", self.idf[t]) for t in g.alternatives) for g in self.groups
        ]
        # In a hybrid ranking a gloss counts TRANSLATED_TERM_WEIGHT of its IDF.
        self._hybrid_needles = [
            tuple((f" {t} ", self.idf[t] * TRANSLATED_TERM_WEIGHT) for t in g.alternatives)
            if not g.original
            else needles
            for g, needles in zip(self.groups, self._needles, strict=True)
        ]

    def bm25(
        self,
        content: SegmentedText,
        keywords: SegmentedText,
        avgdl: float,
        tf_cap: float | None = None,
        *,
        hybrid: bool = False,
    ) -> float:
        """Okapi BM25; keywords and questions count KEYWORD_BOOST times as much as body text.
        `tf_cap` bounds each term's frequency factor (BM25's own bound is k1 + 1); in a
        `hybrid` ranking an English gloss of a Chinese word counts TRANSLATED_TERM_WEIGHT.

        Runs for every candidate of every retrieval (~160 at 100k chunks), hence the plain
        loops: 1.74 → 1.45 ms of CPU per retrieval at 100k chunks, the same scores."""
        if not self._needles:
            return 0.0
        length = content.length + KEYWORD_BOOST * keywords.length
        norm = K1 * (1 - B + B * (length / avgdl if avgdl > 0 else 1))
        body, extra = content.padded, keywords.padded
        boost = KEYWORD_BOOST if keywords.length else 0
        score = 0.0
        for needles in self._hybrid_needles if hybrid else self._needles:
            best = 0.0
            for needle, weight in needles:
                tf = body.count(needle)
                if boost:
                    tf += boost * extra.count(needle)
                if tf:
                    part = tf * (K1 + 1) / (tf + norm)
                    if tf_cap and part > tf_cap:
                        part = tf_cap
                    if weight * part > best:
                        best = weight * part
            score += best
        return score


class SegmentedText:
    """Space-separated terms (`content_ltks`) whose occurrences are counted without splitting
    them into a list: `padded.count(" term ")` (TermScorer.bm25) is a substring count in C, a
    few microseconds for a long chunk."""

    __slots__ = ("length", "padded")

    def __init__(self, text: str) -> None:
        text = text.strip()
        self.length = text.count(" ") + 1 if text else 0
        # Every term between its own spaces, so that " t " matches each occurrence.
        self.padded = " " + text.replace(" ", "  ") + " "


def term_similarity(
    query_terms: Sequence[str],
    weights: dict[str, float],
    content_terms: Sequence[str],
    keyword_terms: Sequence[str],
    avgdl: float,
) -> float:
    """BM25 of one chunk for plain terms with the given IDF weights, scaled to 0..1 by what a
    chunk holding each term once at average length scores (capped at 1)."""
    scorer = TermScorer(
        [TermGroup((t,)) for t in query_terms], dict(weights), sum(weights[t] for t in query_terms)
    )
    if scorer.attainable <= 0:
        return 0.0
    content = SegmentedText(" ".join(content_terms))
    keywords = SegmentedText(" ".join(keyword_terms))
    return min(1.0, scorer.bm25(content, keywords, avgdl) / scorer.attainable)


def highlight(text: str, terms: Sequence[str]) -> str:
    """`text` with the question's terms wrapped in <em>…</em> (HTML-escaped otherwise).

    Stop words ("the", "are", "的") are never marked, nor Latin words of one or two letters
    ("on", "of"); numbers are.
    """
    pattern = _highlight_pattern(tuple(terms))
    if pattern is None:
        return html.escape(text)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<em>{html.escape(match.group(0))}</em>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _highlight_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """The pattern marking `terms` (longest first), built once for all hits of a question."""
    useful = sorted(
        {
            t
            for t in terms
            if not fulltext.is_stop_word(t.lower())
            and (not t.isascii() or len(t) > 2 or t.isdigit())
        },
        key=len,
        reverse=True,
    )
    if not useful:
        return None
    parts = [
        rf"\b{re.escape(t)}\b" if t.isascii() and t[0].isalnum() else re.escape(t) for t in useful
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def scale_vectors(hits: Sequence[Scored]) -> float:
    """Cosines measured from VECTOR_BASELINE and divided by the best one's (see the module
    docstring), per VECTOR_SCALING.

    Returns the question's answer confidence for `fuse` (`answer_confidence`): 1 unless even
    the best cosine is low."""
    if VECTOR_SCALING == "raw" or not hits:
        return 1.0
    best = max(h.vector_similarity for h in hits)
    if best <= 0:
        return 1.0
    if VECTOR_SCALING == "max":
        scale = max(best, VECTOR_FLOOR)
        span = scale - VECTOR_BASELINE
        for hit in hits:
            hit.vector_similarity = max(0.0, hit.vector_similarity - VECTOR_BASELINE) / span
        return answer_confidence(best / scale)
    if VECTOR_SCALING == "minmax":
        low = min(h.vector_similarity for h in hits)
        span = best - low
        for hit in hits:
            hit.vector_similarity = (hit.vector_similarity - low) / span if span > 0 else 1.0
    return 1.0


def answer_confidence(best_scaled: float) -> float:
    """1 when the best cosine divided by VECTOR_FLOOR reaches CONFIDENT_BEST, falling
    linearly to 0 at UNRELATED_BEST."""
    if best_scaled >= CONFIDENT_BEST:
        return 1.0
    span = CONFIDENT_BEST - UNRELATED_BEST
    return max(0.0, (best_scaled - UNRELATED_BEST) / span) if span > 0 else 0.0


class Scored(Protocol):
    """A candidate being scored (knowledge.retrieval.Hit)."""

    document_id: str
    vector_similarity: float
    term_similarity: float
    similarity: float


def term_similarities(
    scorer: TermScorer, texts: Sequence[tuple[str, str]], *, hybrid: bool
) -> list[float]:
    """Each candidate's term similarity (0..1) from its (`content_ltks`, `keywords_ltks`).

    BM25 divided by what a chunk holding every term once at average length scores, or by the
    best candidate's score when one scores more. In a hybrid ranking each term's frequency
    factor is capped at HYBRID_TF_CAP and a gloss counts TRANSLATED_TERM_WEIGHT of its IDF.
    """
    segmented = [(SegmentedText(c), SegmentedText(k)) for c, k in texts]
    if not segmented:
        return []
    avgdl = sum(c.length + KEYWORD_BOOST * k.length for c, k in segmented) / len(segmented)
    cap = HYBRID_TF_CAP if hybrid else None
    bm25 = [scorer.bm25(c, k, avgdl, cap, hybrid=hybrid) for c, k in segmented]
    scale = max(scorer.attainable, max(bm25))
    return [b / scale if scale > 0 else 0.0 for b in bm25]


def fuse(
    hits: Sequence[Scored],
    weight: float,
    confidence: float = 1.0,
    *,
    only_terms: bool | None = None,
) -> None:
    """Set each hit's `similarity` = weight × vector part + (1 − weight) × term part, in 0..1.

    When the vector side counts (weight > 0), both parts are first adjusted so that this stays
    true of the parts each hit reports: in a hybrid ranking each moves toward 1 by its
    document's evidence (`document_shares`), then both are multiplied by `confidence` (what
    `scale_vectors` returned). When no candidate has a vector part (no embedding), the term
    part alone: `only_terms`, or when None, every vector part is 0 (pass it when the parts were
    scaled, as cosines under VECTOR_BASELINE scale to 0).
    """
    if only_terms is None:
        only_terms = all(h.vector_similarity == 0 for h in hits)
    if not only_terms and weight > 0:
        shares = document_shares(hits, weight) if weight < 1 and DOCUMENT_EVIDENCE > 0 else None
        for index, hit in enumerate(hits):
            if shares is not None:
                hit.vector_similarity += shares[index] * (1 - hit.vector_similarity)
                hit.term_similarity += shares[index] * (1 - hit.term_similarity)
            hit.vector_similarity *= confidence
            hit.term_similarity *= confidence
    for hit in hits:
        if only_terms:
            hit.similarity = hit.term_similarity
        else:
            hit.similarity = weight * hit.vector_similarity + (1 - weight) * hit.term_similarity
        hit.similarity = max(0.0, min(1.0, hit.similarity))


def document_shares(hits: Sequence[Scored], weight: float) -> list[float]:
    """Per hit, DOCUMENT_EVIDENCE × the weighted sum of the best other chunk of its document
    (the second best for the document's best chunk; 0 for a document's only chunk). Moving
    both parts toward 1 by this share turns a similarity s into s + share × (1 − s)."""
    sums = [weight * h.vector_similarity + (1 - weight) * h.term_similarity for h in hits]
    best: dict[str, list[float]] = {}
    for hit, value in zip(hits, sums, strict=True):
        top = best.setdefault(hit.document_id, [0.0, 0.0])
        if value > top[0]:
            top[0], top[1] = value, top[0]
        elif value > top[1]:
            top[1] = value
    shares = [0.0] * len(hits)
    seen: set[str] = set()
    for index in sorted(range(len(hits)), key=lambda i: sums[i], reverse=True):
        document = hits[index].document_id
        first, second = best[document]
        # The document's best chunk (the first met) counts its second; the others its best.
        shares[index] = DOCUMENT_EVIDENCE * (second if document not in seen else first)
        seen.add(document)
    return shares
