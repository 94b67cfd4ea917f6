"""`presentation`, `picture` and `one`: a chunk per slide or page, or one for everything."""

from __future__ import annotations

from itertools import groupby

from knowledge.parsing.chunkers.naive import chunk_naive
from knowledge.parsing.context import ParseContext
from knowledge.parsing.filetypes import IMAGE_SUFFIXES, suffix_of
from knowledge.parsing.options import Options
from knowledge.parsing.types import Block, ChunkDraft, Extracted


def chunk_presentation(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """One chunk per slide (pptx) or page (pdf)."""
    if not extracted.paged:
        ctx.note(
            "The presentation method splits slides and pages, and this file has neither; "
            "naive chunking was used."
        )
        return chunk_naive(extracted, options, ctx, filename)
    return per_page(extracted.blocks)


def chunk_picture(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """The OCR text of an image as one chunk; a PDF or multi-page TIFF gives one per page."""
    suffix = suffix_of(filename)
    if suffix != "pdf" and suffix not in IMAGE_SUFFIXES:
        ctx.note("The picture method reads images and PDFs; naive chunking was used.")
        return chunk_naive(extracted, options, ctx, filename)
    if extracted.paged:
        return per_page(extracted.blocks)
    return chunk_one(extracted, options, ctx, filename)


def chunk_one(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """The whole document as a single chunk, however long."""
    blocks = extracted.all_blocks()
    text = "\n".join(block.text for block in blocks)
    positions = [position for block in blocks for position in block.positions]
    return [ChunkDraft(content=text, page_numbers=_pages(blocks), positions=positions)]


def per_page(blocks: list[Block]) -> list[ChunkDraft]:
    """A chunk for each page that has text."""
    chunks = []
    for page, group in groupby(blocks, key=lambda block: block.page):
        members = list(group)
        text = "\n".join(block.text for block in members)
        chunks.append(
            ChunkDraft(
                content=text,
                page_numbers=[page] if page is not None else [],
                positions=[position for block in members for position in block.positions],
            )
        )
    return chunks


def _pages(blocks: list[Block]) -> list[int]:
    """Sorted pages the blocks came from."""
    return sorted({block.page for block in blocks if block.page is not None})
