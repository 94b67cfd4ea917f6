"""Document previews: the PDF a document's pages are shown from, and those pages as PNG images.

A PDF document is shown from its own bytes; Word and PowerPoint documents (and their legacy
and OpenDocument kin) from a PDF LibreOffice makes once. Spreadsheets, text and images have no
page view: the preview shows the chunk's text. Everything made is cached on local disk under
MEDIA_ROOT/previews/<dataset>/<document>/ (written whole or not at all) and removed with the
document. Images are shown as they are (scaled down to the page width). Callers check access first (the views and API go through the tenant's selectors).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from knowledge import pagerender
from knowledge.models import Chunk, Document
from knowledge.pagerender import PageSize
from knowledge.parsing import ParseError
from knowledge.parsing.convert import convert_office
from knowledge.parsing.filetypes import IMAGE_SUFFIXES, suffix_of
from knowledge.services.ingest import office_converter

# Office files whose pages mean something: a spreadsheet's printed pages do not.
PAGED_OFFICE_SUFFIXES = frozenset({"docx", "pptx", "doc", "ppt", "rtf", "odt", "odp"})
PDF = "pdf"
OFFICE = "office"
IMAGE = "image"  # the picture itself (each frame of a multi-page TIFF is a page)
TEXT = "text"


class PreviewUnavailable(Exception):
    """The document has no page view; `message` says why, for the person looking."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def preview_kind(document: Document) -> str:
    """'pdf', 'office' (pages from a PDF LibreOffice makes) or 'text' (no page view)."""
    suffix = suffix_of(document.name)
    if suffix == "pdf":
        return PDF
    if suffix in PAGED_OFFICE_SUFFIXES:
        return OFFICE
    if suffix in IMAGE_SUFFIXES:
        return IMAGE
    return TEXT


def cache_folder(dataset_id: str, document_id: str | None = None) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "previews" / dataset_id
    return folder / document_id if document_id else folder


def preview_pages(document: Document) -> list[PageSize]:
    """The size of every page (points); PreviewUnavailable when there is no page view."""
    cached = cache_folder(document.dataset_id, document.pk) / "pages.json"
    if cached.is_file():
        return [PageSize(**size) for size in json.loads(cached.read_text())]
    try:
        if preview_kind(document) == IMAGE:
            sizes = pagerender.image_sizes(_original(document))
        else:
            sizes = pagerender.page_sizes(_pdf(document))
    except pagerender.PdfUnreadable as exc:
        raise PreviewUnavailable(_("The PDF could not be opened (%s).") % exc) from exc
    except pagerender.ImageUnreadable as exc:
        raise PreviewUnavailable(_("The image could not be opened (%s).") % exc) from exc
    if not sizes:
        raise PreviewUnavailable(_("The PDF has no pages."))
    _write(cached, json.dumps([asdict(size) for size in sizes]).encode())
    return sizes


def preview_page_image(document: Document, number: int) -> Path:
    """The cached PNG of page `number` (1-based); LookupError when there is no such page."""
    sizes = preview_pages(document)
    if not 1 <= number <= len(sizes):
        raise LookupError(number)
    image = cache_folder(document.dataset_id, document.pk) / f"page-{number}.png"
    if not image.is_file():
        try:
            if preview_kind(document) == IMAGE:
                _write(image, pagerender.render_image(_original(document), number))
            else:
                _write(image, pagerender.render_page(_pdf(document), number))
        except pagerender.PdfUnreadable as exc:
            raise PreviewUnavailable(_("The PDF could not be opened (%s).") % exc) from exc
        except pagerender.ImageUnreadable as exc:
            raise PreviewUnavailable(_("The image could not be opened (%s).") % exc) from exc
    return image


RECORDED = "recorded"  # the chunk's own positions (PDF documents)
FOUND = "found"  # where its text was found on the page


def chunk_places(document: Document, chunk: Chunk) -> tuple[list[list[float]], str]:
    """The chunk's boxes on the pages the preview shows, and where they come from.

    A PDF document's chunk with positions has them drawn as they are. Otherwise (no positions,
    or an Office file shown from LibreOffice's PDF, whose pages the positions do not describe)
    the chunk's text is looked for in the page text: ([], "") when it is not found.
    """
    kind = preview_kind(document)
    if kind == PDF and pagerender.first_page(chunk.positions) is not None:
        return list(chunk.positions), RECORDED
    if kind in (TEXT, IMAGE):
        return [], ""
    hint = chunk.page_numbers[0] if chunk.page_numbers else None
    try:
        found = pagerender.locate_text(_pdf(document), chunk.content, hint)
    except (PreviewUnavailable, pagerender.PdfUnreadable):
        return [], ""
    return found, FOUND if found else ""


def preview_cache_delete(dataset_id: str, document_ids: list[str] | None = None) -> None:
    """Forget the previews of some documents of a dataset, or of all of them."""
    folders = (
        [cache_folder(dataset_id, doc_id) for doc_id in document_ids]
        if document_ids is not None
        else [cache_folder(dataset_id)]
    )
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _original(document: Document) -> bytes:
    if not document.location or not default_storage.exists(document.location):
        raise PreviewUnavailable(_("The stored file is missing."))
    with default_storage.open(document.location, "rb") as handle:
        return bytes(handle.read())


def _pdf(document: Document) -> Path:
    """A local path to the PDF the pages come from, made and cached when needed."""
    kind = preview_kind(document)
    if kind not in (PDF, OFFICE):
        raise PreviewUnavailable(_("This type of document has no page view."))
    if not document.location or not default_storage.exists(document.location):
        raise PreviewUnavailable(_("The stored file is missing."))
    folder = cache_folder(document.dataset_id, document.pk)
    if kind == PDF:
        with contextlib.suppress(NotImplementedError):  # storages without local paths (S3)
            return Path(default_storage.path(document.location))
        cached = folder / "document.pdf"
        if not cached.is_file():
            with default_storage.open(document.location, "rb") as handle:
                _write(cached, handle.read())
        return cached
    cached = folder / "converted.pdf"
    failed = folder / "conversion-error.txt"
    if cached.is_file():
        return cached
    if failed.is_file():
        raise PreviewUnavailable(failed.read_text())
    with default_storage.open(document.location, "rb") as handle:
        data = handle.read()
    try:
        _write(cached, convert_office(data, document.name, "pdf", office_converter()))
    except ParseError as exc:
        # Not retried on every view: a damaged file stays damaged, and each try costs seconds.
        # A missing LibreOffice is retried, as it may be installed later.
        if "not installed" not in exc.message:
            _write(failed, exc.message.encode())
        raise PreviewUnavailable(exc.message) from exc
    return cached


def _write(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all (a concurrent reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
