"""The evaluation page: questions kept with a knowledge base, and how well retrieval finds them.

Owners add questions with the documents that answer them; anyone who may search the knowledge
base may run the evaluation, which scores keyword, semantic and hybrid retrieval and sweeps the
semantic weight and the similarity threshold, so settings are picked from evidence.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from knowledge.models import Dataset
from knowledge.services import evaluation as services
from knowledge.views.datasets import is_owner, owned_or_404, visible_or_404
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Question"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    document_ids = forms.MultipleChoiceField(
        label=_("Documents that answer it"),
        help_text=_("Ctrl-click (⌘-click on a Mac) to pick several."),
    )

    def __init__(self, *args: Any, dataset: Dataset, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["document_ids"]).choices = list(
            dataset.documents.order_by("name").values_list("pk", "name")
        )


def _context(request: HtmxHttpRequest, dataset: Dataset, **extra: Any) -> dict[str, Any]:
    names = dict(dataset.documents.values_list("pk", "name"))
    questions = [
        {"item": q, "documents": [names.get(pk, pk) for pk in q.document_ids]}
        for q in dataset.evaluation_questions.all()
    ]
    return {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "questions": questions,
        "form": QuestionForm(dataset=dataset),
        **extra,
    }


def _questions_response(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    if request.htmx:
        return render(request, "knowledge/_evaluation_questions.html", context)
    return render(request, "knowledge/evaluation.html", context)


@login_required
@require_http_methods(["GET"])
def evaluation(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = visible_or_404(request, dataset_id)
    response = render(request, "knowledge/evaluation.html", _context(request, dataset))
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def add_evaluation_question(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    form = QuestionForm(request.POST, dataset=dataset)
    error = ""
    if form.is_valid():
        try:
            services.evaluation_question_create(
                user=request.user,
                dataset_id=dataset.pk,
                question=form.cleaned_data["question"],
                document_ids=list(form.cleaned_data["document_ids"]),
                chunk_ids=[],
            )
        except ServiceError as exc:
            error = exc.message
        else:
            if not request.htmx:
                return redirect("knowledge:evaluation", dataset.pk)
            return _questions_response(request, _context(request, dataset))
    context = _context(request, dataset, error=error)
    context["form"] = form
    return _questions_response(request, context)


@login_required
@require_POST
def delete_evaluation_question(
    request: HtmxHttpRequest, dataset_id: str, question_id: str
) -> HttpResponse:
    dataset = owned_or_404(request, dataset_id)
    services.evaluation_question_delete(user=request.user, dataset_id=dataset.pk, ids=[question_id])
    if not request.htmx:
        return redirect("knowledge:evaluation", dataset.pk)
    return _questions_response(request, _context(request, dataset))


@login_required
@require_POST
def run_evaluation(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    dataset = visible_or_404(request, dataset_id)
    context: dict[str, Any] = {"dataset": dataset}
    try:
        report = services.evaluation_run(user=request.user, dataset_id=dataset.pk)
    except ServiceError as exc:
        context["error"] = exc.message
    else:
        context["report"] = services.report_out(report)
    if request.htmx:
        return render(request, "knowledge/_evaluation_report.html", context)
    page = _context(request, dataset, **context)
    return render(request, "knowledge/evaluation.html", page)
