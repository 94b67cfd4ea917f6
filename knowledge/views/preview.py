"""The document preview: a page of the document as an image, with a chunk's boxes outlined.

`?chunk=<id>` opens the page the chunk is on and outlines its `positions`; `?page=<n>` moves
between pages. Links from chunk cards, retrieval hits and chat citations land here. Anyone who
may see the knowledge base may see its previews; the page images are served by their own view
under the same tenant check, never from a public media URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from knowledge.models import Chunk, Document
from knowledge.pagerender import Box, PageSize, boxes_on_page, first_page
from knowledge.services.preview import (
    IMAGE,
    OFFICE,
    PDF,
    PreviewUnavailable,
    chunk_places,
    preview_kind,
    preview_page_image,
    preview_pages,
)
from knowledge.views.datasets import visible_or_404
from knowledge.views.documents import document_or_404
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import render_markdown


def preview_url(dataset_id: str, document_id: str, chunk_id: str = "") -> str:
    """The preview of a document, at a chunk's page with its boxes when `chunk_id` is given."""
    url = reverse("knowledge:document_preview", args=[dataset_id, document_id])
    return f"{url}?chunk={chunk_id}" if chunk_id else url


def chunk_preview_url(reference: Mapping[str, Any]) -> str:
    """The preview link of a chunk in a chat or agent reference ('' if it lacks the ids)."""
    ids = [str(reference.get(key) or "") for key in ("dataset_id", "document_id", "id")]
    return preview_url(*ids) if all(ids) else ""


@dataclass(frozen=True)
class PageView:
    number: int
    total: int
    size: PageSize
    image_url: str
    boxes: list[Box]

    @property
    def aspect(self) -> str:
        """width / height for CSS aspect-ratio, written with a dot."""
        return f"{self.size.width:.2f} / {self.size.height:.2f}"


def _page_number(raw: str, fallback: int, total: int) -> int:
    try:
        number = int(raw) if raw else fallback
    except ValueError:
        number = fallback
    return min(max(number, 1), total)


@login_required
@require_http_methods(["GET"])
def document_preview(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """The preview page (see the module docstring)."""
    dataset = visible_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    chunk = None
    if chunk_id := request.GET.get("chunk", ""):
        chunk = Chunk.objects.filter(pk=chunk_id, document=document).defer("embedding").first()
        if chunk is None:
            raise Http404
    kind = preview_kind(document)
    page: PageView | None = None
    unavailable = ""
    places: list[list[float]] = []
    source = ""
    if kind in (PDF, OFFICE, IMAGE):
        try:
            sizes = preview_pages(document)
        except PreviewUnavailable as exc:
            unavailable = exc.message
        else:
            if chunk is not None:
                places, source = chunk_places(document, chunk)
            page = _page_view(request, document, chunk, sizes, places)
    context = {
        "dataset": dataset,
        "document": document,
        "chunk": chunk,
        "chunk_html": render_markdown(chunk.content) if chunk else "",
        "kind": kind,
        "page": page,
        "unavailable": unavailable,
        "source": source,
        "pages": _page_links(document, chunk, page),
        "chunks_url": reverse("knowledge:document_chunks", args=[dataset.pk, document.pk])
        + (f"?chunk={chunk.pk}#chunk-{chunk.pk}" if chunk else ""),
    }
    return render(request, "knowledge/document_preview.html", context)


def _page_view(
    request: HtmxHttpRequest,
    document: Document,
    chunk: Chunk | None,
    sizes: list[PageSize],
    places: list[list[float]],
) -> PageView:
    fallback = 1
    if chunk is not None:
        fallback = first_page(places) or (chunk.page_numbers or [1])[0]
    number = _page_number(request.GET.get("page", ""), fallback, len(sizes))
    size = sizes[number - 1]
    boxes = boxes_on_page(places, number, size)
    image_url = reverse(
        "knowledge:document_preview_page", args=[document.dataset_id, document.pk, number]
    )
    return PageView(number=number, total=len(sizes), size=size, image_url=image_url, boxes=boxes)


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str
    rel: str


def _page_links(document: Document, chunk: Chunk | None, page: PageView | None) -> list[PageLink]:
    """Previous and next page, keeping the chunk whose boxes are outlined."""
    if page is None:
        return []
    base = reverse("knowledge:document_preview", args=[document.dataset_id, document.pk])
    query = f"chunk={chunk.pk}&" if chunk else ""
    links = []
    if page.number > 1:
        links.append(PageLink(_("Previous page"), f"{base}?{query}page={page.number - 1}", "prev"))
    if page.number < page.total:
        links.append(PageLink(_("Next page"), f"{base}?{query}page={page.number + 1}", "next"))
    return links


@login_required
@require_http_methods(["GET"])
@cache_control(private=True, max_age=3600)
def document_preview_page(
    request: HtmxHttpRequest, dataset_id: str, document_id: str, number: int
) -> FileResponse:
    """One page as a PNG image (rendered once, then served from the cache)."""
    dataset = visible_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    try:
        image = preview_page_image(document, number)
    except (PreviewUnavailable, LookupError) as exc:
        raise Http404 from exc
    return FileResponse(image.open("rb"), content_type="image/png")
