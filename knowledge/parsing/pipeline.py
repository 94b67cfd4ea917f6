"""parse_document: bytes of an uploaded file in, chunk drafts out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from knowledge.parsing.chunkers import CHUNKERS, UNAVAILABLE
from knowledge.parsing.context import ParseContext
from knowledge.parsing.convert import OfficeConverter
from knowledge.parsing.filetypes import check_content, document_type, suffix_of
from knowledge.parsing.options import read_options, unsupported_option_notes
from knowledge.parsing.readers import read_file
from knowledge.parsing.text import clean_text
from knowledge.parsing.toc import headings_of
from knowledge.parsing.tokens import count_tokens
from knowledge.parsing.types import ChunkDraft, ParseError, ParseResult

READ_SHARE = 0.85  # reading (OCR above all) is most of the work; chunking is the rest


def parse_document(
    *,
    data: bytes,
    filename: str,
    chunk_method: str,
    parser_config: dict[str, Any],
    progress: Callable[[float, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    office: OfficeConverter | None = None,
) -> ParseResult:
    """Read `data` as the file `filename` and chunk it with RAGFlow's `chunk_method`.

    `progress(fraction, message)` is called as work moves (at most every few seconds, plus at
    each phase); `should_stop()` is polled between pages, slides and rows (at most twice a
    second) and ParseCancelled is raised when it returns True. `office` says where LibreOffice
    is, for .doc, .xls, .ppt, .rtf and OpenDocument files. Problems with the file raise
    ParseError with a sentence for the user; options that cannot apply become `notes`.
    """
    ctx = ParseContext(progress, should_stop)
    name = PurePath(filename).name
    suffix = suffix_of(name)
    ctx.phase(0.0, READ_SHARE, f"Reading {name}.")
    if not data:
        raise ParseError("The file is empty.")
    if document_type(name) is None:
        raise ParseError(f"ragsite cannot parse {name}: this type of file is not supported.")
    problem = check_content(name, data)
    if problem:
        raise ParseError(problem)
    method = chunk_method or "naive"
    if method in UNAVAILABLE:
        ctx.note(
            f"The '{method}' chunk method is not supported in ragsite; naive chunking was used."
        )
        method = "naive"
    if method not in CHUNKERS:
        raise ParseError(f"Unknown chunk method '{method}'.")
    config = parser_config if isinstance(parser_config, dict) else {}
    options = read_options(config)
    options.ocr_all_pages = method == "picture"
    if office is not None:
        options.office = office
    for note in options.notes + unsupported_option_notes(config, suffix=suffix, method=method):
        ctx.note(note)

    extracted = read_file(data, name, ctx, options)
    if extracted.metadata:
        keys = list(extracted.metadata)
        shown = ", ".join(keys[:10]) + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")
        ctx.note(f"Front matter kept as metadata: {shown}.")
    if not any(block.text.strip() for block in extracted.all_blocks()):
        raise ParseError(f"No text could be extracted from {name}.")

    ctx.phase(READ_SHARE, 1.0, "Chunking.")
    chunks = finish(CHUNKERS[method](extracted, options, ctx, name))
    if not chunks:
        raise ParseError(f"No text could be extracted from {name}.")
    ctx.report(1.0, f"{len(chunks)} chunk(s).", force=True)
    return ParseResult(
        chunks=chunks,
        pages=max(1, extracted.pages),
        notes=ctx.notes,
        metadata=extracted.metadata,
        headings=headings_of(extracted.all_blocks()),
    )


def finish(drafts: list[ChunkDraft]) -> list[ChunkDraft]:
    """Tidy every chunk's text, drop empty ones and count tokens."""
    chunks = []
    for draft in drafts:
        draft.content = clean_text(draft.content)
        if draft.content:
            draft.token_count = count_tokens(draft.content)
            chunks.append(draft)
    return chunks
