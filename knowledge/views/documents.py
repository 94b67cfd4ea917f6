"""A knowledge base's page: upload documents, list them, act on them and watch them parse.

Actions are parse, stop, enable, settings, delete and download, one by one or on the ticked
documents; while any document parses, a poller asks for the rows that are changing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from knowledge.forms import DocumentSettingsForm, DocumentUploadForm, chunk_method_label
from knowledge.models import Dataset, Document
from knowledge.parsing.filetypes import SUPPORTED_SUFFIXES
from knowledge.selectors import document_get_or_raise, documents_filtered
from knowledge.services.documents import (
    DocumentChanges,
    Upload,
    document_delete,
    document_open,
    document_update,
    document_upload,
)
from knowledge.services.ingest import BatchOutcome, parse_start, parse_stop
from knowledge.views.datasets import is_owner, owned_or_404, visible_or_404, with_labels
from knowledge.views.parse_log import translate_line, translate_log, translate_message
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required

Run = Document.Run
# The table shows the newest documents first, this many at most; the search box finds the rest.
DOCUMENTS_SHOWN = 200
# A poll asks about the rows parsing on the page; more than this many is not a real page.
WATCH_LIMIT = 500
# (level, text) shown above the table after an action; level is "success", "warning" or "error",
# or "parsing": a success that holds only while documents parse (it goes when they are done).
Notice = tuple[str, str]
# The session remembers whether "Parse after upload" was ticked at the last upload.
PARSE_AFTER_UPLOAD = "knowledge.parse_after_upload"


def _waiting_notices(outcome: BatchOutcome) -> list[Notice]:
    """Parses queued while the task queue (the broker) was down start when it is back."""
    if not outcome.waiting:
        return []
    text = _("The task queue is unreachable right now; parsing will start when it is back.")
    return [("warning", text)]


@dataclass(frozen=True)
class DocumentRow:
    """What the table shows for one document, worked out once so the template only prints."""

    document: Document
    state: str  # unstart | queued | running | done | fail | cancel (CSS classes, tests)
    label: str
    percent: int
    error: str  # FAIL: the last "[ERROR]" line, readable
    step: str  # RUNNING: the last line of the log, e.g. "Embedding 32/64."
    chunk_method_label: str
    log: str = ""  # FAIL: the whole log, in the reader's language where it is known

    @property
    def parsing(self) -> bool:
        """Queued or running: the poller watches the row, and Stop stands in for Parse."""
        return self.state in {"queued", "running"}


def _log_lines(progress_msg: str) -> list[str]:
    return [line.strip() for line in progress_msg.splitlines() if line.strip()]


def _without_time(line: str) -> str:
    # The worker stamps each line "HH:MM:SS "; a one-line summary reads better without it.
    stamp, _space, rest = line.partition(" ")
    return rest if rest and len(stamp) == 8 and stamp.count(":") == 2 else line


def _last_error(progress_msg: str) -> str:
    for line in reversed(_log_lines(progress_msg)):
        if "[ERROR]" in line:
            return line.split("[ERROR]", 1)[1].strip()
    return ""


def document_row(document: Document) -> DocumentRow:
    """The table's view of a document: its state in words, progress and error."""
    percent = 0
    error = step = log = ""
    if document.run == Run.RUNNING and document.progress <= 0:
        # parse_start marks a document RUNNING at 0 before any worker has picked it up.
        state, label = "queued", _("Queued")
    elif document.run == Run.RUNNING:
        percent = min(99, max(1, int(document.progress * 100)))
        state, label = "running", _("Parsing %(percent)d%%") % {"percent": percent}
        lines = _log_lines(document.progress_msg)
        step = translate_line(_without_time(lines[-1])) if lines else ""
    elif document.run == Run.DONE:
        state, label = "done", _("Done")
    elif document.run == Run.FAIL:
        state, label = "fail", _("Failed")
        error = translate_message(_last_error(document.progress_msg)) or _(
            "Parsing failed without saying why."
        )
        log = translate_log(document.progress_msg)
    elif document.run == Run.CANCEL:
        state, label = "cancel", _("Cancelled")
    else:
        state, label = "unstart", _("Not parsed")
    return DocumentRow(
        document=document,
        state=state,
        label=label,
        percent=percent,
        error=error,
        step=step,
        chunk_method_label=chunk_method_label(document.chunk_method),
        log=log,
    )


def document_or_404(dataset: Dataset, document_id: str) -> Document:
    return document_get_or_raise(dataset, document_id, error=Http404())


def _parsing(dataset: Dataset) -> bool:
    return Document.objects.filter(dataset=dataset, run=Run.RUNNING).exists()


def _table_context(request: HtmxHttpRequest, dataset: Dataset, keywords: str) -> dict[str, Any]:
    documents = documents_filtered(dataset, keywords=keywords).order_by("-created_at", "pk")
    rows = [document_row(d) for d in documents[:DOCUMENTS_SHOWN]]
    total = documents.count() if len(rows) == DOCUMENTS_SHOWN else len(rows)
    return {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "rows": rows,
        "total": total,
        "keywords": keywords,
    }


def _dataset_page(
    request: HtmxHttpRequest,
    dataset: Dataset,
    *,
    keywords: str = "",
    upload_form: DocumentUploadForm | None = None,
    upload_problems: Sequence[str] = (),
) -> HttpResponse:
    from knowledge.views.enrichment import enrichment_context

    context = {
        **enrichment_context(request, dataset),
        **_table_context(request, dataset, keywords),
        **_upload_context(upload_form or _upload_form(request), problems=upload_problems),
        "dataset": with_labels([dataset])[0],
        "polling": _parsing(dataset),
    }
    return render(request, "knowledge/dataset_detail.html", context)


def _upload_form(request: HtmxHttpRequest) -> DocumentUploadForm:
    """An empty upload form, "Parse after upload" as the user left it at their last upload."""
    return DocumentUploadForm(initial={"parse": request.session.get(PARSE_AFTER_UPLOAD, True)})


def _upload_context(
    form: DocumentUploadForm,
    uploaded: str = "",
    problems: Sequence[str] = (),
    *,
    parsing_started: bool = False,
) -> dict[str, Any]:
    return {
        "upload_form": form,
        "uploaded": uploaded,
        "parsing_started": parsing_started,  # `uploaded` says so: it goes when parsing is done
        "upload_problems": problems,
        "max_upload_bytes": settings.RAGSITE_MAX_UPLOAD_BYTES,
        "suffixes": sorted(SUPPORTED_SUFFIXES),
    }


def _with_updates(
    request: HtmxHttpRequest,
    html: str,
    dataset: Dataset,
    *,
    notices: Sequence[Notice] | None = None,
    rows: Sequence[DocumentRow] = (),
    new_rows: Sequence[DocumentRow] = (),
    gone: Sequence[str] = (),
) -> HttpResponse:
    """`html` followed by what any document change can affect, swapped out of band.

    That is the counters, the poller (polling only while something parses), the notices (left
    alone when None), rows to replace, rows to add at the top and rows to remove. Once nothing
    parses, notices that said parsing had started are taken away.
    """
    dataset.refresh_from_db(fields=["document_count", "chunk_count", "token_count"])
    polling = _parsing(dataset)
    if notices is not None and not polling:
        notices = [notice for notice in notices if notice[0] != "parsing"]
    context = {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "polling": polling,
        "notices": notices,
        "rows": rows,
        "new_rows": new_rows,
        "gone": gone,
    }
    return HttpResponse(html + render_to_string("knowledge/_document_oob.html", context, request))


def _back_to_dataset(
    request: HtmxHttpRequest, dataset: Dataset, notices: Sequence[Notice]
) -> HttpResponse:
    """Without JavaScript, actions are plain form posts: say what happened on the page itself."""
    for level, text in notices:
        if level == "error":
            messages.error(request, text)
        elif level == "warning":
            messages.warning(request, text)
        else:
            messages.success(request, text)
    return redirect("knowledge:dataset_detail", dataset.pk)


def _row_response(
    request: HtmxHttpRequest, dataset: Dataset, document_id: str, notices: Sequence[Notice]
) -> HttpResponse:
    """The row as it is now (nothing if it is gone), which replaces the row acted on."""
    if not request.htmx:
        return _back_to_dataset(request, dataset, notices)
    document = Document.objects.filter(dataset=dataset, pk=document_id).first()
    html = ""
    if document is not None:
        context = {"row": document_row(document), "dataset": dataset, "is_owner": True}
        html = render_to_string("knowledge/_document_row.html", context, request)
    return _with_updates(request, html, dataset, notices=notices)


def _rows_response(
    request: HtmxHttpRequest, dataset: Dataset, notices: Sequence[Notice]
) -> HttpResponse:
    """The whole table body again, still filtered by the search box, after a bulk action."""
    if not request.htmx:
        return _back_to_dataset(request, dataset, notices)
    context = _table_context(request, dataset, request.POST.get("keywords", "").strip())
    html = render_to_string("knowledge/_document_rows.html", context, request)
    return _with_updates(request, html, dataset, notices=notices)


@login_required
@require_http_methods(["GET"])
def dataset_detail(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """A knowledge base's page: its numbers, an upload drop zone and its documents.

    The search box asks the same URL with HTMX and gets only the table body back.
    """
    dataset = visible_or_404(request, dataset_id)
    keywords = request.GET.get("keywords", "").strip()
    if request.htmx and not request.htmx.history_restore_request:
        context = _table_context(request, dataset, keywords)
        html = render_to_string("knowledge/_document_rows.html", context, request)
        response = _with_updates(request, html, dataset)
    else:
        response = _dataset_page(request, dataset, keywords=keywords)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET"])
def document_updates(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """What the poller fetches while documents parse: the rows it watches, fresh.

    Each parsing row carries a hidden `watch` input, so rows that finish drop out by themselves,
    and the poller comes back without its trigger once nothing in the knowledge base parses.
    """
    dataset = visible_or_404(request, dataset_id)
    watched = list(dict.fromkeys(request.GET.getlist("watch")))[:WATCH_LIMIT]
    found = {d.pk: d for d in Document.objects.filter(dataset=dataset, pk__in=watched)}
    rows = [document_row(found[pk]) for pk in watched if pk in found]
    gone = [pk for pk in watched if pk not in found]  # deleted meanwhile, e.g. in another tab
    return _with_updates(request, "", dataset, rows=rows, gone=gone)


@login_required
@require_http_methods(["POST"])
def upload_documents(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Upload files (all or none) and queue them for parsing if asked; new rows go on top."""
    dataset = owned_or_404(request, dataset_id)
    limit = settings.RAGSITE_MAX_UPLOAD_BYTES
    form = _upload_form(request)
    problems: list[str] = []  # why nothing was uploaded, one line per file
    created: list[Document] = []
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        # Refuse before Django reads the body into temporary files.
        problems.append(
            _("The upload is larger than the limit of %(limit)s.")
            % {"limit": filesizeformat(limit)}
        )
    else:
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            request.session[PARSE_AFTER_UPLOAD] = form.cleaned_data["parse"]
            uploads = [
                Upload(name=f.name or "", file=f, size=f.size or 0)
                for f in form.cleaned_data["file"]
            ]
            try:
                created = document_upload(tenant=request.user, dataset=dataset, uploads=uploads)
            except ServiceError as exc:
                problems = exc.message.splitlines()

    notices: list[Notice] = []
    uploaded = ""
    parsing_started = False
    if created:
        uploaded = ngettext(
            "Uploaded %(count)d file.", "Uploaded %(count)d files.", len(created)
        ) % {"count": len(created)}
        if form.cleaned_data["parse"]:
            try:
                outcome = parse_start(dataset=dataset, document_ids=[d.pk for d in created])
            except ServiceError as exc:
                notices.append(("error", exc.message))
            else:
                notices += _waiting_notices(outcome)
                if not outcome.waiting:
                    uploaded += " " + _("Parsing has started.")
                    parsing_started = True
        form = DocumentUploadForm(initial={"parse": form.cleaned_data["parse"]})

    if not request.htmx:
        if not created:
            return _dataset_page(request, dataset, upload_form=form, upload_problems=problems)
        return _back_to_dataset(request, dataset, [("success", uploaded), *notices])

    context = {
        "dataset": dataset,
        **_upload_context(form, uploaded, problems, parsing_started=parsing_started),
    }
    html = render_to_string("knowledge/_document_upload_form.html", context, request)
    fresh = Document.objects.filter(pk__in=[d.pk for d in created]).order_by("-created_at", "pk")
    return _with_updates(
        request,
        html,
        dataset,
        notices=notices or None,
        new_rows=[document_row(d) for d in fresh],
    )


@login_required
@require_http_methods(["POST"])
def parse_document(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Queue one document for parsing, or for parsing again (its chunks are replaced)."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    notices: list[Notice] = []
    try:
        outcome = parse_start(dataset=dataset, document_ids=[document.pk])
    except ServiceError as exc:
        notices.append(("error", exc.message))
    else:
        notices += _waiting_notices(outcome)
    return _row_response(request, dataset, document.pk, notices)


@login_required
@require_http_methods(["POST"])
def stop_parsing(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Cancel a queued or running parse; the row shows what really happened if it just ended."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    notices: list[Notice] = []
    try:
        parse_stop(dataset=dataset, document_ids=[document.pk])
    except ServiceError as exc:
        notices.append(("error", exc.message))
    return _row_response(request, dataset, document.pk, notices)


@login_required
@require_http_methods(["POST"])
def toggle_document(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Enable or disable a document; a disabled document's chunks are left out of retrieval."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    notices: list[Notice] = []
    try:
        document_update(
            dataset=dataset,
            document_id=document.pk,
            changes=DocumentChanges(enabled=request.POST.get("enabled") == "1"),
        )
    except ServiceError as exc:
        notices.append(("error", exc.message))
    return _row_response(request, dataset, document.pk, notices)


@login_required
@require_http_methods(["POST"])
def delete_document(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Delete one document with its chunks and its file."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    document_delete(dataset=dataset, ids=[document.pk])
    notices = [("success", _("Deleted “%(name)s”.") % {"name": document.name})]
    return _row_response(request, dataset, document.pk, notices)


@login_required
@require_http_methods(["GET", "POST"])
def document_settings(request: HtmxHttpRequest, dataset_id: str, document_id: str) -> HttpResponse:
    """Rename a document or change how it is chunked: in a dialog (HTMX) or on its own page."""
    dataset = owned_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    data = request.POST if request.method == "POST" else None
    form = DocumentSettingsForm(data, document=document)
    if request.method == "POST" and form.is_valid():
        try:
            if (changes := form.changes()) != DocumentChanges():
                document = document_update(
                    dataset=dataset, document_id=document.pk, changes=changes
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            notices = [
                ("success", _("Saved the settings of “%(name)s”.") % {"name": document.name})
            ]
            if not request.htmx:
                return _back_to_dataset(request, dataset, notices)
            # Empty main content closes the dialog (documents.js); the row travels out of band.
            return _with_updates(
                request, "", dataset, notices=notices, rows=[document_row(document)]
            )
    template = (
        "knowledge/_document_settings_form.html"
        if request.htmx
        else "knowledge/document_settings.html"
    )
    return render(request, template, {"dataset": dataset, "document": document, "form": form})


def _selected_ids(request: HtmxHttpRequest) -> list[str]:
    return [doc_id for doc_id in request.POST.getlist("ids") if doc_id]


@login_required
@require_http_methods(["POST"])
def parse_selected(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Queue the checked documents for parsing."""
    dataset = owned_or_404(request, dataset_id)
    ids = _selected_ids(request)
    notices: list[Notice]
    if not ids:
        notices = [("error", _("Select one or more documents first."))]
    else:
        try:
            outcome = parse_start(dataset=dataset, document_ids=ids)
        except ServiceError as exc:
            notices = [("error", exc.message)]
        else:
            count = outcome.success_count
            notices = [
                (
                    "parsing",
                    ngettext(
                        "Queued %(count)d document for parsing.",
                        "Queued %(count)d documents for parsing.",
                        count,
                    )
                    % {"count": count},
                ),
                *_waiting_notices(outcome),
            ]
    return _rows_response(request, dataset, notices)


@login_required
@require_http_methods(["POST"])
def delete_selected(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Delete the checked documents."""
    dataset = owned_or_404(request, dataset_id)
    ids = _selected_ids(request)
    notices: list[Notice]
    if not ids:
        # Never call document_delete with no ids: to the service that means "all of them".
        notices = [("error", _("Select one or more documents first."))]
    else:
        count, _missing, _duplicates = document_delete(dataset=dataset, ids=ids)
        notices = [
            (
                "success",
                ngettext("Deleted %(count)d document.", "Deleted %(count)d documents.", count)
                % {"count": count},
            )
        ]
    return _rows_response(request, dataset, notices)


# FileResponse streams, so it is no HttpResponse; login_required's hint is narrower than it needs.
@login_required
@require_http_methods(["GET"])
def download_document(
    request: HtmxHttpRequest, dataset_id: str, document_id: str
) -> HttpResponseBase:
    """The original file, as an attachment under the document's name."""
    dataset = visible_or_404(request, dataset_id)
    document = document_or_404(dataset, document_id)
    try:
        handle = document_open(document)
    except ServiceError:
        messages.error(
            request,
            _("“%(name)s” is empty: there is nothing to download.") % {"name": document.name},
        )
        return redirect("knowledge:dataset_detail", dataset.pk)
    # FileResponse streams and writes a UTF-8 filename* for non-ASCII names.
    return FileResponse(handle, as_attachment=True, filename=document.name)
