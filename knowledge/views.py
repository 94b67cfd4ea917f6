"""HTML views for knowledge bases and their documents, with HTMX fragments for every change.

The knowledge-base list creates, edits and deletes in place. A knowledge base's own page uploads
documents, lists them, acts on them (parse, stop, enable, settings, delete, download) and, while
any of them parses, polls for the rows that are changing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from knowledge.forms import (
    DatasetForm,
    DocumentSettingsForm,
    DocumentUploadForm,
    chunk_method_label,
    embedding_model_label,
)
from knowledge.models import Dataset, Document
from knowledge.parsing.filetypes import SUPPORTED_SUFFIXES
from knowledge.selectors import (
    dataset_get_owned,
    dataset_get_visible,
    datasets_visible_to,
    documents_filtered,
)
from knowledge.services.datasets import (
    DatasetChanges,
    dataset_create,
    dataset_delete,
    dataset_update,
)
from knowledge.services.documents import (
    Upload,
    document_delete,
    document_open,
    document_update,
    document_upload,
)
from knowledge.services.ingest import parse_start, parse_stop
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


def _with_labels(datasets: Iterable[Dataset]) -> list[Dataset]:
    # Templates cannot look a label up by key, so attach the display names once here.
    rows = list(datasets)
    for dataset in rows:
        dataset.chunk_method_label = chunk_method_label(dataset.chunk_method)  # type: ignore[attr-defined]
        dataset.embedding_model_label = embedding_model_label(dataset.embedding_model)  # type: ignore[attr-defined]
    return rows


def _visible_datasets(user: User) -> list[Dataset]:
    datasets = datasets_visible_to(user).select_related("tenant").order_by("-created_at")
    return _with_labels(datasets)


def _owned_or_404(request: HtmxHttpRequest, dataset_id: str) -> Dataset:
    # Someone else's dataset, team-visible or not, is "not found" here: only owners edit.
    dataset = dataset_get_owned(request.user, dataset_id)
    if dataset is None:
        raise Http404
    return dataset


def _render_row(request: HtmxHttpRequest, dataset: Dataset) -> HttpResponse:
    context = {"dataset": _with_labels([dataset])[0]}
    return render(request, "knowledge/_dataset_row.html", context)


@login_required
@require_http_methods(["GET"])
def dataset_list(request: HtmxHttpRequest) -> HttpResponse:
    """The knowledge bases the user can see, with a form to create one."""
    context = {"datasets": _visible_datasets(request.user), "form": DatasetForm()}
    return render(request, "knowledge/dataset_list.html", context)


@login_required
@require_http_methods(["POST"])
def create_dataset(request: HtmxHttpRequest) -> HttpResponse:
    """Create a knowledge base; HTMX gets a fresh form plus the new row, others a redirect."""
    form = DatasetForm(request.POST)
    dataset = None
    if form.is_valid():
        try:
            dataset = dataset_create(tenant=request.user, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
    if not request.htmx:
        if dataset is None:
            context = {"datasets": _visible_datasets(request.user), "form": form}
            return render(request, "knowledge/dataset_list.html", context)
        messages.success(request, _("Knowledge base “%(name)s” created.") % {"name": dataset.name})
        return redirect("knowledge:dataset_list")
    if dataset is None:
        return render(request, "knowledge/_dataset_create_form.html", {"form": form})
    # The form swaps itself back empty; the row rides along out of band into the list.
    context = {"form": DatasetForm(), "created": _with_labels([dataset])[0]}
    return render(request, "knowledge/_dataset_create_form.html", context)


@login_required
@require_http_methods(["GET"])
def dataset_row(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """One row, read-only: what "Cancel" swaps back in place of the edit form."""
    return _render_row(request, _owned_or_404(request, dataset_id))


@login_required
@require_http_methods(["GET", "POST"])
def edit_dataset(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Edit a knowledge base in place (HTMX) or on its own page (no JavaScript)."""
    dataset = _owned_or_404(request, dataset_id)
    form = DatasetForm.for_dataset(dataset, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Send only what changed, so an untouched chunk method keeps its parser config.
        changes = DatasetChanges(values={key: form.cleaned_data[key] for key in form.changed_data})
        try:
            dataset = dataset_update(tenant=request.user, dataset_id=dataset.pk, changes=changes)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            if request.htmx:
                return _render_row(request, dataset)
            messages.success(
                request, _("Knowledge base “%(name)s” saved.") % {"name": dataset.name}
            )
            return redirect("knowledge:dataset_list")
    template = (
        "knowledge/_dataset_edit_form.html" if request.htmx else "knowledge/dataset_edit.html"
    )
    return render(request, template, {"dataset": dataset, "form": form})


@login_required
@require_http_methods(["POST"])
def delete_dataset(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Delete one of the user's knowledge bases; HTMX removes the row."""
    dataset = _owned_or_404(request, dataset_id)
    dataset_delete(tenant=request.user, ids=[dataset.pk])
    if request.htmx:
        # Empty 200: the row's hx-swap="delete" removes it.
        return HttpResponse()
    messages.success(request, _("Knowledge base “%(name)s” deleted.") % {"name": dataset.name})
    return redirect("knowledge:dataset_list")
