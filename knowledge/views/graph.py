"""A knowledge base's knowledge graph: build it, follow its job, look at it (search, entity
details, relations). Team mates may look; only the owner builds."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from knowledge.enrichment.chat_model import chat_model_problem
from knowledge.enrichment.jobs import job_latest, job_start
from knowledge.models import Dataset
from knowledge.selectors import dataset_graph
from knowledge.views.datasets import is_owner, owned_or_404, visible_or_404
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required

KIND = "graphrag"


def _status_context(
    request: HtmxHttpRequest, dataset: Dataset, *, error: str = ""
) -> dict[str, Any]:
    job = job_latest(dataset, KIND)
    return {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "job": job,
        "problem": chat_model_problem(dataset),
        "error": error,
    }


@login_required
def graph_page(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = visible_or_404(request, dataset_id)
    context = _status_context(request, dataset)
    context["graph"] = dataset_graph(dataset)
    response = render(request, "knowledge/graph.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def graph_status(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """The job panel alone: polled while a build runs."""
    dataset = visible_or_404(request, dataset_id)
    return render(request, "knowledge/_graph_status.html", _status_context(request, dataset))


@login_required
@require_POST
def build_graph(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    error = ""
    try:
        job_start(dataset=dataset, kind=KIND)
    except ServiceError as exc:
        error = exc.message
    if not request.htmx:
        return redirect("knowledge:graph", dataset.pk)
    context = _status_context(request, dataset, error=error)
    return render(request, "knowledge/_graph_status.html", context)
