"""A document's chunks: page through them, search them, and (owners) add, edit, switch off
and delete them.

The list is one fragment (`#chunk-list`) that paging, searching and deleting swap whole; edits
and the availability switch swap one card. The page's counters travel out of band after every
change, so the document's and the knowledge base's numbers stay right.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from knowledge import fulltext
from knowledge.forms import ChunkForm, chunk_method_label
from knowledge.models import Chunk, Dataset, Document
from knowledge.scoring import highlight
from knowledge.selectors import chunk_get_or_raise
from knowledge.services.chunks import (
    ChunkChanges,
    chunk_add,
    chunk_delete,
    chunk_list,
    chunk_update,
)
from knowledge.views.datasets import is_owner, owned_or_404, visible_or_404
from knowledge.views.documents import Notice, document_or_404, document_row
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import render_markdown

PAGE_SIZE = 20


@dataclass(frozen=True)
class ListState:
    """Where the reader is in the list: the page and the search. Every form carries it along."""

    page: int = 1
    keywords: str = ""

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ListState:
        try:
            page = max(1, int(data.get("page") or 1))
        except ValueError:
            page = 1
        return cls(page=page, keywords=str(data.get("keywords") or "").strip())

    def terms(self) -> list[str]:
        """The search terms, as the chunk service finds them (none: the list is not searched)."""
        return fulltext.tokens(self.keywords) if self.keywords else []

    def query(self, **changes: Any) -> str:
        values = {"page": self.page, "keywords": self.keywords, **changes}
        if values["page"] == 1:
            del values["page"]  # the first page is the page itself
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class ChunkCard:
    """What a card shows for a chunk: the text, safe to print, and where it came from."""

    chunk: Chunk
    text: SafeString  # rendered Markdown, with <mark> around matches when the list is searched
    pages: str
    hidden_chars: int = 0  # the end of a very long chunk that the card leaves out


# A card renders at most this much of a chunk's text (Markdown rendering a 1 MB chunk took
# 2.3 s); the edit form holds all of it.
CARD_TEXT_CHARS = 20_000


def _card_text(content: str) -> str:
    """`content`, or its start up to CARD_TEXT_CHARS, cut after a paragraph or a line if one
    ends in the last quarter."""
    if len(content) <= CARD_TEXT_CHARS:
        return content
    start = content[:CARD_TEXT_CHARS]
    for separator in ("\n\n", "\n", " "):
        cut = start.rfind(separator)
        if cut >= CARD_TEXT_CHARS * 3 // 4:
            return start[:cut]
    return start


def _pages_label(pages: Sequence[int]) -> str:
    unique = sorted(set(pages))
    if not unique:
        return ""
    if len(unique) == 1:
        return _("Page %(page)d") % {"page": unique[0]}
    if unique == list(range(unique[0], unique[-1] + 1)):
        return _("Pages %(first)d–%(last)d") % {"first": unique[0], "last": unique[-1]}
    return _("Pages %(pages)s") % {"pages": ", ".join(str(p) for p in unique)}


_EMPHASIS = re.compile(r"<em>(.*?)</em>", re.DOTALL)


def unhighlight(highlighted: str) -> tuple[str, list[str]]:
    """The text and the matched terms of knowledge.scoring.highlight()'s output.

    That output is the escaped text with <em> around the matches, so undoing it is exact; the
    page renders the text as Markdown and marks the same terms again (ragsite/markdown.py).
    """
    terms = list(dict.fromkeys(html.unescape(t).lower() for t in _EMPHASIS.findall(highlighted)))
    return html.unescape(_EMPHASIS.sub(r"\1", highlighted)), terms


def chunk_card(chunk: Chunk, *, highlighted: bool = False, terms: Sequence[str] = ()) -> ChunkCard:
    """A card for `chunk`; `highlighted` says its content is the service's highlighted HTML."""
    content = chunk.content
    if highlighted:
        content, terms = unhighlight(content)
    elif terms:
        _text, terms = unhighlight(highlight(content, terms))  # the same matches as a search
    shown = _card_text(content)
    return ChunkCard(
        chunk=chunk,
        text=render_markdown(shown, marks=terms),
        pages=_pages_label(chunk.page_numbers or []),
        hidden_chars=len(content) - len(shown),
    )


def _chunk_or_404(document: Document, chunk_id: str) -> Chunk:
    return chunk_get_or_raise(document, chunk_id, error=Http404())


def _page_of(document: Document, chunk_id: str) -> int:
    """The page of the unsearched list that shows `chunk_id` (the first if it is gone)."""
    # chunk_list's reading order; ids alone are cheap even for a long document.
    ids = list(
        Chunk.objects.filter(document=document)
        .order_by("page_numbers", "ordinal", "-created_at")
        .values_list("pk", flat=True)
    )
    return ids.index(chunk_id) // PAGE_SIZE + 1 if chunk_id in ids else 1


def _browser_url(dataset: Dataset, document: Document, query: str = "", anchor: str = "") -> str:
    url = reverse("knowledge:document_chunks", args=[dataset.pk, document.pk])
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _list_context(
    request: HtmxHttpRequest,
    dataset: Dataset,
    document: Document,
    state: ListState,
    *,
    marked: str = "",
    new: bool = False,
) -> dict[str, Any]:
    """The list's page as `state` asks for it; a page past the end shows the last one."""
    result = chunk_list(
        document=document, page=state.page, page_size=PAGE_SIZE, keywords=state.keywords
    )
    pages = max(1, ceil(result.total / PAGE_SIZE))
    if state.page > pages:
        # The last page emptied (a delete), or an old link: show the last page there is.
        state = ListState(page=pages, keywords=state.keywords)
        result = chunk_list(
            document=document, page=state.page, page_size=PAGE_SIZE, keywords=state.keywords
        )
    searched = bool(state.terms())
    first = (state.page - 1) * PAGE_SIZE + 1
    return {
        "dataset": dataset,
        "document": document,
        "is_owner": is_owner(request, dataset),
        "state": state,
        "cards": [chunk_card(c, highlighted=searched) for c in result.chunks],
        "total": result.total,
        "pages": pages,
        "first": first,
        "last": first + len(result.chunks) - 1,
        "previous_url": (
            _browser_url(dataset, document, state.query(page=state.page - 1))
            if state.page > 1
            else ""
        ),
        "next_url": (
            _browser_url(dataset, document, state.query(page=state.page + 1))
            if state.page < pages
            else ""
        ),
        "marked": marked,
        "new": new,
    }


def _render_list(request: HtmxHttpRequest, context: dict[str, Any], *, oob: bool = False) -> str:
    return render_to_string("knowledge/_chunk_list.html", {**context, "oob": oob}, request)


def _with_updates(
    request: HtmxHttpRequest,
    html: str,
    dataset: Dataset,
    document: Document,
    *,
    notices: Sequence[Notice] | None = None,
    extra: str = "",
) -> HttpResponse:
    """`html`, then the counters and the notices (left alone when None), swapped out of band."""
    dataset.refresh_from_db(fields=["document_count", "chunk_count", "token_count"])
    document.refresh_from_db(fields=["chunk_count", "token_count"])
    context = {"dataset": dataset, "document": document, "notices": notices}
    oob = render_to_string("knowledge/_chunk_oob.html", context, request)
    return HttpResponse(html + oob + extra)


def _card_response(
    request: HtmxHttpRequest,
    dataset: Dataset,
    document: Document,
    chunk: Chunk,
    state: ListState,
    notices: Sequence[Notice],
) -> HttpResponse:
    """The card of `chunk` as it is now, highlighted like the list around it."""
    if not request.htmx:
        return _back_to_browser(request, dataset, document, state, notices, chunk_id=chunk.pk)
    context = {
        "card": chunk_card(chunk, terms=state.terms()),
        "dataset": dataset,
        "document": document,
        "is_owner": True,
        "state": state,
    }
    html = render_to_string("knowledge/_chunk_card.html", context, request)
    return _with_updates(request, html, dataset, document, notices=notices)


def _list_response(
    request: HtmxHttpRequest,
    dataset: Dataset,
    document: Document,
    state: ListState,
    notices: Sequence[Notice],
) -> HttpResponse:
    """The list again at the reader's page and search, after chunks went away."""
    if not request.htmx:
        return _back_to_browser(request, dataset, document, state, notices)
    html = _render_list(request, _list_context(request, dataset, document, state))
    return _with_updates(request, html, dataset, document, notices=notices)


def _back_to_browser(
    request: HtmxHttpRequest,
    dataset: Dataset,
    document: Document,
    state: ListState,
    notices: Sequence[Notice],
    *,
    chunk_id: str = "",
) -> HttpResponse:
    """Without JavaScript, actions are plain form posts: say what happened on the page itself."""
    for level, text in notices:
        (messages.error if level == "error" else messages.success)(request, text)
    if chunk_id and not state.keywords:
        query = ListState().query(chunk=chunk_id)
        return redirect(_browser_url(dataset, document, query, anchor=f"chunk-{chunk_id}"))
    return redirect(_browser_url(dataset, document, state.query()))


def _page(
    request: HtmxHttpRequest,
    dataset: Dataset,
    document: Document,
    state: ListState,
    *,
    marked: str = "",
    add_form: ChunkForm | None = None,
) -> HttpResponse:
    context = {
        **_list_context(request, dataset, document, state, marked=marked),
        "row": document_row(document),
        "chunk_method_label": chunk_method_label(document.chunk_method),
        "add_form": add_form or ChunkForm(),
    }
    return render(request, "knowledge/document_chunks.html", context)


@login_required
@require_http_methods(["GET"])
def document_chunks(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """A document's chunks, 20 to a page, in reading order or best match first when searched.

    `?chunk=<id>` opens the page that shows that chunk and marks it (links from retrieval).
    Paging and the search box ask the same URL with HTMX and get only the list back.
    """
    dataset = visible_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    state = ListState.of(request.GET)
    marked = request.GET.get("chunk", "")
    if marked and not state.keywords:
        state = ListState(page=_page_of(document, marked))
    if request.htmx and not request.htmx.history_restore_request:
        context = _list_context(request, dataset, document, state, marked=marked)
        response = HttpResponse(_render_list(request, context))
    else:
        response = _page(request, dataset, document, state, marked=marked)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["POST"])
def add_chunk(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Add a chunk by hand; it is embedded now, so search and retrieval find it at once.

    The list then shows the page with the new chunk (the search is cleared for that).
    """
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    form = ChunkForm(request.POST)
    chunk = None
    if form.is_valid():
        try:
            chunk = chunk_add(document=document, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
    state = ListState.of(request.POST)
    if chunk is None:
        if not request.htmx:
            return _page(request, dataset, document, state, add_form=form)
        html = render_to_string(
            "knowledge/_chunk_add_form.html",
            {"dataset": dataset, "document": document, "add_form": form},
            request,
        )
        return HttpResponse(html)

    notices = [("success", _("Added chunk #%(number)d.") % {"number": chunk.ordinal + 1})]
    if not request.htmx:
        return _back_to_browser(request, dataset, document, ListState(), notices, chunk_id=chunk.pk)
    state = ListState(page=_page_of(document, chunk.pk))
    html = render_to_string(
        "knowledge/_chunk_add_form.html",
        {"dataset": dataset, "document": document, "add_form": ChunkForm(), "added": True},
        request,
    )
    context = _list_context(request, dataset, document, state, marked=chunk.pk, new=True)
    extra = _render_list(request, context, oob=True) + render_to_string(
        "knowledge/_chunk_search.html", {**context, "oob": True}, request
    )
    # The form says what happened, next to the button; older notices go.
    return _with_updates(request, html, dataset, document, notices=[], extra=extra)


@login_required
@require_http_methods(["GET"])
def chunk_detail(
    request: HtmxHttpRequest, dataset_id: str, document_id: str, chunk_id: str
) -> HttpResponse:
    """One card, read-only: what "Cancel" swaps back in place of the edit form."""
    dataset = visible_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    chunk = _chunk_or_404(document, chunk_id)
    state = ListState.of(request.GET)
    if not request.htmx:
        return _back_to_browser(request, dataset, document, state, [], chunk_id=chunk.pk)
    context = {
        "card": chunk_card(chunk, terms=state.terms()),
        "dataset": dataset,
        "document": document,
        "is_owner": is_owner(request, dataset),
        "state": state,
    }
    return render(request, "knowledge/_chunk_card.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def edit_chunk(
    request: HtmxHttpRequest, dataset_id: str, document_id: str, chunk_id: str
) -> HttpResponse:
    """Edit a chunk's text, keywords and questions in place (HTMX) or on a page of its own."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    chunk = _chunk_or_404(document, chunk_id)
    data = request.POST if request.method == "POST" else None
    state = ListState.of(request.POST if data is not None else request.GET)
    form = ChunkForm(data, chunk=chunk)
    if data is not None and form.is_valid():
        try:
            chunk = chunk_update(document=document, chunk_id=chunk.pk, changes=form.changes())
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            notices = [("success", _("Saved chunk #%(number)d.") % {"number": chunk.ordinal + 1})]
            return _card_response(request, dataset, document, chunk, state, notices)
    context = {
        "form": form,
        "chunk": chunk,
        "dataset": dataset,
        "document": document,
        "state": state,
    }
    template = "knowledge/_chunk_edit_form.html" if request.htmx else "knowledge/chunk_edit.html"
    return render(request, template, context)


@login_required
@require_http_methods(["POST"])
def toggle_chunk(
    request: HtmxHttpRequest, dataset_id: str, document_id: str, chunk_id: str
) -> HttpResponse:
    """Switch a chunk on or off: an unavailable chunk is left out of search and answers."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    chunk = _chunk_or_404(document, chunk_id)
    wanted = request.POST.get("available") == "1"
    notices: list[Notice] = []
    try:
        chunk = chunk_update(
            document=document, chunk_id=chunk.pk, changes=ChunkChanges(available=wanted)
        )
    except ServiceError as exc:
        notices.append(("error", exc.message))
    if wanted and not chunk.available and not notices:
        notices.append(
            (
                "error",
                _(
                    "“%(name)s” is disabled, so its chunks stay unavailable. Enable the "
                    "document on the knowledge base's page first."
                )
                % {"name": document.name},
            )
        )
    return _card_response(request, dataset, document, chunk, ListState.of(request.POST), notices)


@login_required
@require_http_methods(["POST"])
def delete_chunk(
    request: HtmxHttpRequest, dataset_id: str, document_id: str, chunk_id: str
) -> HttpResponse:
    """Delete one chunk; the list closes the gap."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    chunk = _chunk_or_404(document, chunk_id)
    chunk_delete(document=document, ids=[chunk.pk])
    notices = [("success", _("Deleted chunk #%(number)d.") % {"number": chunk.ordinal + 1})]
    return _list_response(request, dataset, document, ListState.of(request.POST), notices)


@login_required
@require_http_methods(["POST"])
def delete_selected_chunks(
    request: HtmxHttpRequest, dataset_id: str, document_id: str
) -> HttpResponse:
    """Delete the ticked chunks."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    ids = [chunk_id for chunk_id in request.POST.getlist("ids") if chunk_id]
    notices: list[Notice]
    if not ids:
        # Never call chunk_delete with no ids: to the service that means "all of them".
        notices = [("error", _("Select one or more chunks first."))]
    else:
        outcome = chunk_delete(document=document, ids=ids)
        notices = [
            (
                "success",
                ngettext("Deleted %(count)d chunk.", "Deleted %(count)d chunks.", outcome.deleted)
                % {"count": outcome.deleted},
            )
        ]
    return _list_response(request, dataset, document, ListState.of(request.POST), notices)
