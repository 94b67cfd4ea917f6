"""Turning uploaded files into chunk drafts, following RAGFlow's chunk methods.

Pure Python: no Django models, no database, no settings. `parse_document` is the entry point;
`filetypes` answers upload-time questions (supported? RAGFlow type? content matches name?).
"""

from knowledge.parsing.pipeline import parse_document
from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import ChunkDraft, ParseCancelled, ParseError, ParseResult

__all__ = [
    "ChunkDraft",
    "ParseCancelled",
    "ParseError",
    "ParseResult",
    "count_tokens",
    "parse_document",
]
