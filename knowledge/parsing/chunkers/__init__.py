"""Chunk methods by RAGFlow name; each turns what a reader found into chunk drafts."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from knowledge.parsing.chunkers.laws import chunk_laws
from knowledge.parsing.chunkers.mail import chunk_email
from knowledge.parsing.chunkers.naive import chunk_naive
from knowledge.parsing.chunkers.paged import chunk_one, chunk_picture, chunk_presentation
from knowledge.parsing.chunkers.qa import chunk_qa
from knowledge.parsing.chunkers.sections import chunk_sections
from knowledge.parsing.chunkers.table import chunk_table
from knowledge.parsing.context import ParseContext
from knowledge.parsing.options import Options
from knowledge.parsing.types import ChunkDraft, Extracted

Chunker = Callable[[Extracted, Options, ParseContext, str], list[ChunkDraft]]

CHUNKERS: dict[str, Chunker] = {
    "naive": chunk_naive,
    "qa": chunk_qa,
    "table": chunk_table,
    "paper": partial(chunk_sections, paper=True),
    "book": chunk_sections,
    "manual": chunk_sections,
    "laws": chunk_laws,
    "presentation": chunk_presentation,
    "picture": chunk_picture,
    "one": chunk_one,
    "email": chunk_email,
}
# RAGFlow methods that need models ragsite does not have; documents fall back to naive.
UNAVAILABLE = frozenset({"tag", "resume", "knowledge_graph", "audio"})

__all__ = ["CHUNKERS", "UNAVAILABLE", "Chunker"]
