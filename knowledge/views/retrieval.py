"""Retrieval testing: ask a knowledge base a question and see which chunks it would answer with.

The same ranking the chat assistants and `POST /api/v1/retrieval` use, with its knobs (keyword
or semantic weight, threshold, top N, documents, rerank model) on the page. Team mates may
search a knowledge base shared with them: searching changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from knowledge.forms import RetrievalTestForm
from knowledge.models import Dataset
from knowledge.retrieval import Hit
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from knowledge.views.chunks import unhighlight
from knowledge.views.datasets import is_owner, visible_or_404
from knowledge.views.preview import preview_url
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import render_markdown


@dataclass(frozen=True)
class Score:
    key: str  # similarity | semantic | keyword: CSS classes and tests
    label: str
    value: float
    bar: str  # the value clamped to 0–1 and written with a dot, for the bar's CSS width


@dataclass(frozen=True)
class HitRow:
    rank: int
    hit: Hit
    text: SafeString
    scores: list[Score]
    chunk_url: str
    download_url: str
    preview_url: str


@dataclass(frozen=True)
class DocumentCount:
    name: str
    count: int
    url: str


@dataclass
class Outcome:
    """What the results area says: `state` is idle, invalid, empty, error, none or hits."""

    state: str
    message: str = ""
    rows: list[HitRow] = field(default_factory=list)
    total: int = 0
    documents: list[DocumentCount] = field(default_factory=list)


def _score(key: str, label: str, value: float) -> Score:
    return Score(key=key, label=label, value=value, bar=f"{max(0.0, min(1.0, value)):.3f}")


def _chunk_url(dataset_id: str, document_id: str, chunk_id: str = "") -> str:
    url = reverse("knowledge:document_chunks", args=[dataset_id, document_id])
    return f"{url}?chunk={chunk_id}#chunk-{chunk_id}" if chunk_id else url


def _hit_row(rank: int, hit: Hit) -> HitRow:
    return HitRow(
        rank=rank,
        hit=hit,
        # The chunk as Markdown, with the terms the service highlighted marked again.
        text=render_markdown(hit.content, marks=unhighlight(hit.highlight)[1]),
        scores=[
            _score("similarity", _("Similarity"), hit.similarity),
            _score("semantic", _("Semantic"), hit.vector_similarity),
            _score("keyword", _("Keyword"), hit.term_similarity),
        ],
        chunk_url=_chunk_url(hit.dataset_id, hit.document_id, hit.id),
        download_url=reverse("knowledge:download_document", args=[hit.dataset_id, hit.document_id]),
        preview_url=preview_url(hit.dataset_id, hit.document_id, hit.id),
    )


def _form_errors(form: RetrievalTestForm) -> str:
    """Every error on one line, each after its field's label: "Top N: Ensure this value…"."""
    lines = []
    for name, errors in form.errors.items():
        text = " ".join(str(error) for error in errors)
        lines.append(f"{form.fields[name].label}: {text}" if name in form.fields else text)
    return " ".join(lines)


def _search(request: HtmxHttpRequest, dataset: Dataset, form: RetrievalTestForm) -> Outcome:
    if not form.is_valid():
        return Outcome("invalid", _form_errors(form))
    data = form.cleaned_data
    try:
        result = retrieval_run(
            user=request.user,
            request=RetrievalRequest(
                question=data["question"],
                dataset_ids=[dataset.pk],
                document_ids=list(data["document_ids"]),
                page=1,
                page_size=data["top_n"],
                similarity_threshold=data["similarity_threshold"],
                vector_similarity_weight=data["vector_similarity_weight"],
                rerank_id=data.get("rerank_id") or None,
                highlight=True,
            ),
        )
    except ServiceError as exc:
        return Outcome("error", exc.message)
    if result is None:
        return Outcome("empty")
    if not result.hits:
        return Outcome("none")
    return Outcome(
        "hits",
        rows=[_hit_row(rank, hit) for rank, hit in enumerate(result.hits, start=1)],
        total=result.total,
        documents=[
            DocumentCount(
                name=agg["doc_name"],
                count=agg["count"],
                url=_chunk_url(dataset.pk, agg["doc_id"]),
            )
            for agg in result.doc_aggs
        ],
    )


@login_required
@require_http_methods(["GET"])
def retrieval_test(request: HtmxHttpRequest, dataset_id: str) -> HttpResponse:
    """The question form and, once asked, the ranked chunks with their scores.

    The form asks the same URL with HTMX and gets only the results back; without JavaScript
    it reloads the page with them.
    """
    dataset = visible_or_404(request, dataset_id)
    asked = "question" in request.GET
    form = RetrievalTestForm(request.GET if asked else None, dataset=dataset)
    outcome = _search(request, dataset, form) if asked else Outcome("idle")
    context: dict[str, Any] = {
        "dataset": dataset,
        "is_owner": is_owner(request, dataset),
        "form": form,
        "outcome": outcome,
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "knowledge/_retrieval_results.html", context)
    else:
        response = render(request, "knowledge/retrieval_test.html", context)
    # The same URL answers with a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
