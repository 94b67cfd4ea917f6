"""A table of contents proposed by the chat model for a document without headings (RAGFlow's
run_toc_from_text): the chunks go in batches as `{"<chunk number>": text}` lines, the model
answers the headings it sees as `{"title", "chunk_id", "level"}` objects (`"-1"` titles for
text without one), and the sections run from one heading to the next of its level or above
(knowledge.parsing.toc.sections).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from knowledge.enrichment.session import Ask, LLMSession
from knowledge.parsing.headings import MAX_HEADING_CHARS, heading_level
from knowledge.parsing.toc import sections
from knowledge.parsing.tokens import count_tokens

BATCH_TOKENS = 1024  # RAGFlow's input budget per call
TOC_FROM_TEXT_SYSTEM = (
    "You are a robust Table-of-Contents (TOC) extractor. You receive chunks of one document, "
    'one per line as {"<chunk_ID>": chunk_text}, in reading order. Find the TOC-like headings '
    "in them (a short isolated phrase near a line start, often numbered or a usual section "
    "name, followed by content; not narrative sentences or list items) and return a strict "
    'JSON array of {"title": heading text, "chunk_id": "<chunk_ID>", "level": 1 for a top '
    'level heading, 2 below it, …}. Text of a chunk without a heading is {"title": "-1", '
    '"chunk_id": "<chunk_ID>"}. Keep the chunks\' order; a chunk may hold several headings. '
    "Return only the JSON array."
)
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)
_NUMBERS_ONLY = re.compile(r"[0-9,.()/ -]+$")


def batches(contents: Sequence[str], budget: int = BATCH_TOKENS) -> list[list[int]]:
    """Chunk numbers packed into batches of at most `budget` tokens (a long chunk alone)."""
    packed: list[list[int]] = []
    batch: list[int] = []
    used = 0
    for index, text in enumerate(contents):
        tokens = count_tokens(text)
        if batch and used + tokens > budget:
            packed.append(batch)
            batch, used = [], 0
        batch.append(index)
        used += tokens
    if batch:
        packed.append(batch)
    return packed


def _headings(answer: str, batch: Sequence[int]) -> list[tuple[int, str, int]]:
    found = _ARRAY.search(answer)
    try:
        items = json.loads(found.group(0)) if found else []
    except ValueError:
        items = []
    placed = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        title = " ".join(str(item.get("title") or "").split())
        try:
            index = int(str(item.get("chunk_id")).strip())
        except ValueError:
            continue
        if (
            index not in batch
            or not title
            or title == "-1"
            or len(title) > MAX_HEADING_CHARS
            or _NUMBERS_ONLY.match(title)
        ):
            continue
        level = item.get("level")
        if isinstance(level, bool) or not isinstance(level, int | float | str):
            level = None
        try:
            depth = max(1, int(level)) if level is not None else None
        except ValueError:
            depth = None
        placed.append((depth or heading_level(title) or 1, title, index))
    return placed


def toc_from_model(
    session: LLMSession, contents: Sequence[str], ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The model's table of contents for the chunks `contents` (ids `ids`). Raises
    EnrichmentError or BudgetExceeded when the model cannot answer."""
    packed = batches(contents)
    asks = [
        Ask(
            messages=[
                {"role": "system", "content": TOC_FROM_TEXT_SYSTEM},
                {
                    "role": "user",
                    "content": "Input:\n"
                    + "\n".join(json.dumps({str(i): contents[i]}, ensure_ascii=False) for i in b),
                },
            ],
            label=f"table of contents, chunks {b[0] + 1}–{b[-1] + 1}",
            max_tokens=1024,
            temperature=0.0,
        )
        for b in packed
    ]
    placed = []
    for answer, batch in zip(session.ask_many(asks), packed, strict=True):
        placed.extend(sorted(_headings(answer, batch), key=lambda p: p[2]))
    return sections(placed, contents, ids)
