"""Retrieval's `toc_enhance` (RAGFlow v0.27's `retrieval_by_toc`).

The documents of the best hits that have a table of contents (parser_config.toc_extraction,
knowledge.parsing.toc) are looked at: the entries relevant to the question are chosen by the
dataset's chat model when one is configured (RAGFlow's prompt: the question and the TOC as
`{"level", "title"}` lines in, the same list with a `score` from -1 to 5 out), else by the
question's terms found in the titles. The chunks of the chosen sections join the page, each
scored below the lowest hit of its document, and the page keeps its size.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from knowledge import fulltext, scoring
from knowledge.enrichment.chat_model import NoChatModel, resolve_chat_model
from knowledge.enrichment.llm import ChatModelConfig, LLMError, complete
from knowledge.models import Chunk, Dataset, Document
from knowledge.retrieval import Hit, Result

logger = logging.getLogger(__name__)

TOC_DOCUMENTS = 3  # the documents of the best hits whose tables of contents are read
MIN_RELEVANCE = 0.3  # RAGFlow keeps the chunks whose mean score / 5 is at least 0.3
MAX_ENTRIES = 256  # the entries of one table of contents shown to the model
BELOW = 0.99  # an added chunk scores under the lowest hit of its document

TOC_RELEVANCE_SYSTEM = (
    "You evaluate how relevant the entries of a hierarchical table of contents (TOC) are to a "
    "user's query. You receive a JSON list of TOC items, each with `level` (1 is the top "
    "level) and `title`, and the query. Give every item an integer `score`: 5 highly relevant "
    "(directly answers or matches the query), 3 somewhat related, 1 weakly related, 0 no "
    "clear relation, -1 irrelevant. A strongly related parent makes its children likely "
    "relevant too. Return only a JSON array in the input order, each item with its `level`, "
    '`title` and `score`, e.g. [{"level": 1, "title": "Introduction", "score": 0}].'
)
TOC_RELEVANCE_USER = (
    "Score each TOC item for the query and output only the JSON array with the added "
    '"score" field.\n\n**Input TOC:**\n[\n{toc}\n]\n\n**Query:**\n{query}\n'
)
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)


def toc_enhance(result: Result, *, datasets: Sequence[Dataset], question: str, size: int) -> None:
    """Add to `result` the chunks of the TOC sections relevant to `question` (in place)."""
    if not result.hits or size <= 0:
        return
    weight: dict[str, float] = defaultdict(float)
    for hit in result.hits:
        weight[hit.document_id] += hit.similarity
    ranked = sorted(weight, key=lambda d: weight[d], reverse=True)[:TOC_DOCUMENTS]
    tocs = {
        pk: toc
        for pk, toc in Document.objects.filter(
            pk__in=ranked, dataset_id__in=[d.pk for d in datasets]
        ).values_list("pk", "toc")
        if isinstance(toc, list) and toc
    }
    if not tocs:
        return
    model = _chat_model(datasets)
    relevance: dict[str, list[float]] = defaultdict(list)
    owner: dict[str, str] = {}
    for document_id in (d for d in ranked if d in tocs):
        entries = [e for e in tocs[document_id] if isinstance(e, dict) and e.get("title")]
        entries = entries[:MAX_ENTRIES]
        scores = _model_scores(model, question, entries) if model else None
        if scores is None:
            scores = _term_scores(question, entries)
        for entry, score in zip(entries, scores, strict=True):
            if score <= 0:
                continue
            for chunk_id in entry.get("ids") or []:
                relevance[str(chunk_id)].append(score)
                owner[str(chunk_id)] = document_id
    on_page = {h.id for h in result.hits}
    chosen = {
        cid: sum(s) / len(s)
        for cid, s in relevance.items()
        if cid not in on_page and sum(s) / len(s) >= MIN_RELEVANCE
    }
    if not chosen:
        return
    floor = {
        d: min(h.similarity for h in result.hits if h.document_id == d) for d in set(owner.values())
    }
    added = [
        _hit(chunk, floor[chunk.document_id] * chosen[chunk.pk] * BELOW)
        for chunk in Chunk.objects.filter(
            pk__in=list(chosen), document_id__in=list(tocs), available=True
        ).select_related("document")
        if owner.get(chunk.pk) == chunk.document_id
    ]
    _merge(result, added, size)


def _chat_model(datasets: Sequence[Dataset]) -> ChatModelConfig | None:
    for dataset in datasets:
        try:
            return resolve_chat_model(dataset)
        except NoChatModel:
            continue
    return None


def _model_scores(
    model: ChatModelConfig, question: str, entries: list[dict[str, Any]]
) -> list[float] | None:
    """Each entry's score / 5 from the chat model; None when it fails or answers nonsense."""
    lines = "\n".join(
        json.dumps({"level": e.get("level", 0), "title": e["title"]}, ensure_ascii=False)
        for e in entries
    )
    messages = [
        {"role": "system", "content": TOC_RELEVANCE_SYSTEM},
        {"role": "user", "content": TOC_RELEVANCE_USER.format(toc=lines, query=question)},
    ]
    try:
        answer = complete(model, messages, max_tokens=4096, temperature=0.0).text
    except LLMError as exc:
        logger.warning("toc_enhance: %s", exc.message)
        return None
    found = _ARRAY.search(answer)
    try:
        items = json.loads(found.group(0)) if found else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        logger.warning("toc_enhance: the chat model's answer is not a JSON array.")
        return None
    scores = []
    for index in range(len(entries)):
        item = items[index] if index < len(items) else None
        score = item.get("score") if isinstance(item, dict) else None
        # As RAGFlow: a score under 1 chooses nothing.
        ok = isinstance(score, int | float) and score >= 1
        scores.append(float(score) / 5.0 if ok else 0.0)  # type: ignore[arg-type]
    return scores


def _term_scores(question: str, entries: list[dict[str, Any]]) -> list[float]:
    """The share of a title's terms the question names (with inflections)."""
    groups = scoring.question_groups(question)
    scores = []
    for entry in entries:
        terms = fulltext.query_terms(str(entry["title"]))
        if not terms:
            scores.append(0.0)
            continue
        present = set(terms)
        named = sum(1 for g in groups if present.intersection(g.alternatives))
        scores.append(min(1.0, named / len(terms)))
    return scores


def _hit(chunk: Chunk, similarity: float) -> Hit:
    return Hit(
        id=chunk.pk,
        content=chunk.content,
        content_ltks=chunk.content_ltks,
        document_id=chunk.document_id,
        document_name=chunk.document.name,
        dataset_id=chunk.dataset_id,
        important_keywords=list(chunk.important_keywords or []),
        questions=list(chunk.questions or []),
        positions=list(chunk.positions or []),
        page_numbers=list(chunk.page_numbers or []),
        similarity=similarity,
        vector_similarity=similarity,
        term_similarity=similarity,
        highlight=chunk.content,
        rank=similarity,
    )


def _merge(result: Result, added: list[Hit], size: int) -> None:
    """Each added chunk after the last hit of its document, best first; the page cut to `size`."""
    page = list(result.hits)
    new = {h.id for h in added}
    # Inserted worst first at the same place, so the best ends first.
    for hit in sorted(added, key=lambda h: (h.similarity, h.id)):
        last = max(
            i for i, h in enumerate(page) if h.document_id == hit.document_id and h.id not in new
        )
        page.insert(last + 1, hit)
    page = page[:size]
    kept = sum(1 for h in page if h.id in new)
    result.hits = page
    result.total += kept
    counts = Counter(h.document_id for h in page)
    names = {h.document_id: h.document_name for h in page}
    result.doc_aggs = [
        {"doc_name": names[d], "doc_id": d, "count": c} for d, c in counts.most_common()
    ]
