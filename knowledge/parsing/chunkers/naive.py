"""`naive`: general-purpose token windows over the whole document."""

from __future__ import annotations

from knowledge.parsing.chunkers.html_table import html_table_chunks, table_chunks
from knowledge.parsing.chunkers.merge import Window, pack, segments
from knowledge.parsing.context import ParseContext
from knowledge.parsing.options import Options
from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import Block, ChunkDraft, Extracted


def chunk_naive(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """Cut at the delimiters and pack into chunks of at most chunk_token_num tokens."""
    if options.html4excel and extracted.tabular:
        return html_table_chunks(extracted.tables, options.chunk_token_num)
    return window_drafts(extracted.all_blocks(), options)


def window_drafts(blocks: list[Block], options: Options, *, prefix: str = "") -> list[ChunkDraft]:
    """Token windows over `blocks`, each opened by `prefix` (a heading path …) when given.

    A block that holds a structured table becomes HTML table chunks of its own, in place
    (RAGFlow's convention), split by rows with the header repeated when it is long.
    """
    chunks: list[ChunkDraft] = []
    run: list[Block] = []
    size = budget(options.chunk_token_num, prefix)
    for block in [*blocks, None]:
        if block is not None and block.table is None:
            run.append(block)
            continue
        if run:
            windows = pack(segments(run, options.delimiter), size)
            chunks.extend(draft(window, prefix) for window in windows)
            run = []
        if block is not None and block.table is not None:
            chunks.extend(table_chunks(block.table, options.chunk_token_num))
    return chunks


def budget(limit: int, prefix: str) -> int:
    """Tokens left for text once `prefix` is counted, but never less than a quarter of `limit`."""
    return max(limit - count_tokens(prefix), limit // 4, 1) if prefix else limit


def draft(window: Window, prefix: str = "") -> ChunkDraft:
    """A chunk draft from a packed window."""
    text = window.text.strip()
    return ChunkDraft(
        content=f"{prefix}\n{text}" if prefix else text,
        page_numbers=sorted(window.pages),
        positions=list(window.positions),
    )
