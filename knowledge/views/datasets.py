"""The knowledge-base list: create, edit and delete in place, with HTMX fragments.

Also the lookups every knowledge page shares: owners may change a knowledge base, team mates
may only look, and anyone else is told it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from knowledge.forms import DatasetForm, chunk_method_label, embedding_model_label
from knowledge.models import Dataset
from knowledge.selectors import (
    dataset_get_owned_or_raise,
    dataset_get_visible_or_raise,
    datasets_visible_to,
)
from knowledge.services.datasets import (
    DatasetChanges,
    dataset_create,
    dataset_delete,
    dataset_update,
)
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


def with_labels(datasets: Iterable[Dataset]) -> list[Dataset]:
    """The datasets with display names for their chunk method and embedding model attached."""
    # Templates cannot look a label up by key, so attach the display names once here.
    rows = list(datasets)
    for dataset in rows:
        dataset.chunk_method_label = chunk_method_label(dataset.chunk_method)  # type: ignore[attr-defined]
        dataset.embedding_model_label = embedding_model_label(dataset.embedding_model)  # type: ignore[attr-defined]
    return rows


def owned_or_404(request: HtmxHttpRequest, dataset_id: str) -> Dataset:
    """The user's own dataset, for anything that changes it."""
    # Someone else's dataset, team-visible or not, is "not found" here: only owners edit.
    return dataset_get_owned_or_raise(request.user, dataset_id, error=Http404())


def visible_or_404(request: HtmxHttpRequest, dataset_id: str) -> Dataset:
    """A dataset the user may look at: their own, or a team mate's shared with the team."""
    # Team mates may look, download and search; everything that changes something uses
    # owned_or_404.
    return dataset_get_visible_or_raise(request.user, dataset_id, error=Http404())


def is_owner(request: HtmxHttpRequest, dataset: Dataset) -> bool:
    return bool(dataset.tenant_id == request.user.pk)


def _visible_datasets(user: User) -> list[Dataset]:
    datasets = datasets_visible_to(user).select_related("tenant").order_by("-created_at")
    return with_labels(datasets)


def _render_row(request: HtmxHttpRequest, dataset: Dataset) -> HttpResponse:
    context = {"dataset": with_labels([dataset])[0]}
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
    context = {"form": DatasetForm(), "created": with_labels([dataset])[0]}
    return render(request, "knowledge/_dataset_create_form.html", context)


@login_required
@require_http_methods(["GET"])
def dataset_row(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """One row, read-only: what "Cancel" swaps back in place of the edit form."""
    return _render_row(request, owned_or_404(request, dataset_id))


@login_required
@require_http_methods(["GET", "POST"])
def edit_dataset(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """Edit a knowledge base in place (HTMX) or on its own page (no JavaScript)."""
    dataset = owned_or_404(request, dataset_id)
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
    dataset = owned_or_404(request, dataset_id)
    dataset_delete(tenant=request.user, ids=[dataset.pk])
    if request.htmx:
        # Empty 200: the row's hx-swap="delete" removes it.
        return HttpResponse()
    messages.success(request, _("Knowledge base “%(name)s” deleted.") % {"name": dataset.name})
    return redirect("knowledge:dataset_list")
