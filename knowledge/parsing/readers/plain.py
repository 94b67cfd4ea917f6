"""Plain text and source code: paragraphs separated by blank lines."""

from __future__ import annotations

from knowledge.parsing.text import decode_text
from knowledge.parsing.types import Block, Extracted


def read_plain(data: bytes, filename: str) -> Extracted:
    """One block per paragraph, with the file's line breaks kept."""
    return Extracted(blocks=text_blocks(decode_text(data, filename)))


def text_blocks(text: str) -> list[Block]:
    """Blank-line separated paragraphs of already-clean text."""
    return [Block(part.strip("\n")) for part in text.split("\n\n") if part.strip()]
