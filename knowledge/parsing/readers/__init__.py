"""One reader per file format; `read_file` picks the reader from the extension."""

from __future__ import annotations

from functools import partial

from knowledge.parsing.context import ParseContext
from knowledge.parsing.convert import OfficeConverter, convert_legacy
from knowledge.parsing.filetypes import (
    DELIMITED_SUFFIXES,
    EMAIL_SUFFIXES,
    HTML_SUFFIXES,
    IMAGE_SUFFIXES,
    LEGACY_OFFICE_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    PLAIN_SUFFIXES,
    suffix_of,
)
from knowledge.parsing.options import Options
from knowledge.parsing.readers.delimited import read_delimited
from knowledge.parsing.readers.image import read_image
from knowledge.parsing.readers.mail import read_eml
from knowledge.parsing.readers.md import read_markdown
from knowledge.parsing.readers.pdf import read_pdf
from knowledge.parsing.readers.plain import read_plain
from knowledge.parsing.readers.slides import read_pptx
from knowledge.parsing.readers.spreadsheet import read_xlsx
from knowledge.parsing.readers.structured import read_json, read_jsonl
from knowledge.parsing.readers.web import read_html
from knowledge.parsing.readers.word import read_docx
from knowledge.parsing.types import Extracted, ParseError

__all__ = ["read_file"]


def read_file(data: bytes, filename: str, ctx: ParseContext, options: Options) -> Extracted:
    """What the reader for `filename`'s extension finds in `data`."""
    suffix = suffix_of(filename)
    if suffix in PDF_SUFFIXES:
        return read_pdf(data, filename, ctx, options)
    if suffix in IMAGE_SUFFIXES:
        return read_image(data, filename, ctx)
    if suffix in LEGACY_OFFICE_SUFFIXES:
        ctx.report(0.0, f"Converting {filename} with LibreOffice.", force=True)
        data, filename = convert_legacy(data, filename, options.office, ctx.check_stop)
        suffix = suffix_of(filename)
    if suffix == "docx":
        return read_docx(data, filename, ctx)
    if suffix == "xlsx":
        return read_xlsx(data, filename, ctx)
    if suffix == "pptx":
        return read_pptx(data, filename, ctx)
    if suffix in EMAIL_SUFFIXES:
        # Attachments are read like uploads of their own.
        return read_eml(
            data, filename, ctx, partial(_read_attachment, ctx=ctx, office=options.office)
        )
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown(data, filename)
    if suffix in HTML_SUFFIXES:
        return read_html(data, filename)
    if suffix in DELIMITED_SUFFIXES:
        return read_delimited(data, filename, ctx)
    if suffix == "json":
        return read_json(data, filename)
    if suffix in {"jsonl", "ldjson"}:
        return read_jsonl(data, filename, ctx)
    if suffix in PLAIN_SUFFIXES:
        return read_plain(data, filename)
    raise ParseError(
        f"ragsite cannot parse .{suffix} files." if suffix else "The file has no extension."
    )


def _read_attachment(
    data: bytes, filename: str, *, ctx: ParseContext, office: OfficeConverter
) -> Extracted:
    """An email attachment: every page, whatever the email's page settings say."""
    return read_file(data, filename, ctx, Options(office=office))
