"""The dataset page's LLM enrichment panel: settings, RAPTOR build, stop and progress (HTMX)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from knowledge.enrichment.chat_model import chat_model_problem
from knowledge.enrichment.jobs import job_latest, job_start, job_stop
from knowledge.forms_enrichment import EnrichmentSettingsForm
from knowledge.models import Dataset
from knowledge.parser_config import ParserConfig
from knowledge.services.datasets import DatasetChanges, dataset_update
from knowledge.views.datasets import is_owner, owned_or_404, visible_or_404
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


def enrichment_context(
    request: HtmxHttpRequest, dataset: Dataset, **extra: object
) -> dict[str, object]:
    job = job_latest(dataset, "raptor")
    return {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "enrichment_form": extra.pop("form", None) or EnrichmentSettingsForm.for_dataset(dataset),
        "llm_problem": chat_model_problem(dataset),
        "raptor_job": job,
        "raptor_log": (job.progress_msg.splitlines()[-3:] if job else []),
        **extra,
    }


def _panel(request: HtmxHttpRequest, dataset: Dataset, **extra: object) -> HttpResponse:
    if not request.htmx:
        return redirect("knowledge:dataset_detail", dataset.pk)
    context = enrichment_context(request, dataset, **extra)
    return render(request, "knowledge/_dataset_enrichment.html", context)


@login_required
@require_http_methods(["GET"])
def enrichment_panel(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """The panel, fresh: what its poller fetches while a RAPTOR job runs."""
    return _panel(request, visible_or_404(request, dataset_id))


@login_required
@require_http_methods(["POST"])
def enrichment_settings(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    form = EnrichmentSettingsForm.for_dataset(dataset, request.POST)
    if not form.is_valid():
        return _panel(request, dataset, form=form)
    data = form.cleaned_data
    changes = DatasetChanges(
        values={"llm_id": data["llm_id"] or ""},
        parser_config=ParserConfig.model_validate(form.parser_config()),
    )
    dataset = dataset_update(tenant=request.user, dataset_id=dataset.pk, changes=changes)
    return _panel(request, dataset, saved=True)


@login_required
@require_http_methods(["POST"])
def raptor_start(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    error = None
    try:
        job_start(dataset=dataset, kind="raptor")
    except ServiceError as exc:
        error = exc.message
    return _panel(request, dataset, raptor_error=error)


@login_required
@require_http_methods(["POST"])
def raptor_stop(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    job = job_latest(dataset, "raptor")
    if job is not None:
        job_stop(job=job)
    return _panel(request, dataset)
