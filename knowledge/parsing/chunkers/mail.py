"""`email`: the headers and body, then each attachment's text under its file name."""

from __future__ import annotations

from knowledge.parsing.chunkers.naive import chunk_naive, window_drafts
from knowledge.parsing.context import ParseContext
from knowledge.parsing.filetypes import EMAIL_SUFFIXES, suffix_of
from knowledge.parsing.options import Options
from knowledge.parsing.types import Block, ChunkDraft, Extracted


def chunk_email(
    extracted: Extracted, options: Options, ctx: ParseContext, filename: str
) -> list[ChunkDraft]:
    """Headers + body as one chunk (token windows when long), then attachment windows."""
    if suffix_of(filename) not in EMAIL_SUFFIXES:
        ctx.note("The email method reads .eml files; naive chunking was used.")
        return chunk_naive(extracted, options, ctx, filename)
    # The headers and body stay one chunk when they fit, whatever the delimiter says.
    body_options = Options(chunk_token_num=options.chunk_token_num, delimiter="\n")
    message = [Block("\n\n".join(block.text for block in extracted.blocks))]
    chunks = window_drafts(message, body_options) if extracted.blocks else []
    for attachment in extracted.attachments:
        # An attachment's pages are not pages of the email.
        blocks = [
            Block(b.text, heading=b.heading, is_table=b.is_table)
            for b in attachment.content.all_blocks()
        ]
        chunks.extend(window_drafts(blocks, options, prefix=f"Attachment: {attachment.filename}"))
    return chunks
