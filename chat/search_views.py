"""The Search page: search apps (a set of knowledge bases, rerank, highlight, summary) and
instant results as you type (HTMX), with the answer summary streamed over server-sent events in
the format of POST /api/v1/searches/{id}/completions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import async_to_sync, sync_to_async
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from chat.api.searches import TERMINATOR, error_event, search_events
from chat.forms import SearchAppForm
from chat.models import SearchApp
from chat.selectors import search_get_owned, search_list
from chat.services import extras
from chat.services.citations import CITATION
from chat.services.searches import (
    search_create,
    search_delete,
    search_prepare,
    search_retrieve,
    search_update,
)
from knowledge.models import Dataset
from knowledge.retrieval import Hit
from knowledge.selectors import datasets_visible_to
from knowledge.views.chunks import unhighlight
from ragsite.api.errors import ServiceError
from ragsite.api.streaming import event_stream, sse
from ragsite.http import HtmxHttpRequest, login_required
from ragsite.markdown import render_markdown

RESULTS_SHOWN = 10


@dataclass(frozen=True)
class ResultRow:
    hit: Hit
    text: SafeString
    chunk_url: str


@dataclass
class Results:
    """What the results area shows: `state` is idle, error, none or hits."""

    state: str
    message: str = ""
    rows: list[ResultRow] | None = None
    total: int = 0
    question: str = ""
    summary_url: str = ""
    related_url: str = ""
    mindmap_url: str = ""


def _app_or_404(request: HtmxHttpRequest, search_id: str) -> SearchApp:
    app = search_get_owned(request.user, search_id)
    if app is None:
        raise Http404
    return app


def _datasets(request: HtmxHttpRequest) -> list[Dataset]:
    return list(datasets_visible_to(request.user).order_by("name"))


def _row(hit: Hit, highlight: bool) -> ResultRow:
    marks = unhighlight(hit.highlight)[1] if highlight and hit.highlight else []
    url = reverse("knowledge:document_chunks", args=[hit.dataset_id, hit.document_id])
    return ResultRow(hit, render_markdown(hit.content, marks=marks), f"{url}?chunk={hit.id}")


def _explain(message: str) -> str:
    """The services' RAGFlow messages that a search page meets, in the user's words."""
    if message == "`kb_ids` is required.":
        return _("Choose the knowledge bases to search in the settings.")
    if message.startswith("You don't own the dataset"):
        return _("A knowledge base of this search is no longer available: check the settings.")
    if message.startswith("Datasets use different embedding models"):
        return _(
            "The chosen knowledge bases use different embedding models; choose ones that share one."
        )
    return message


def _results(request: HtmxHttpRequest, app: SearchApp, question: str) -> Results:
    if not question.strip():
        return Results("idle")
    try:
        found = search_retrieve(
            tenant=request.user, app=app, question=question, page_size=RESULTS_SHOWN
        )
    except ServiceError as exc:
        return Results("error", _explain(exc.message))
    if found is None:
        return Results("idle")
    if not found.hits:
        return Results("none", question=question)
    config = app.search_config
    asked = "?" + urlencode({"question": question})

    def url(name: str, key: str) -> str:
        return reverse(f"search:{name}", args=[app.pk]) + asked if config.get(key) else ""

    return Results(
        "hits",
        rows=[_row(hit, bool(config.get("highlight"))) for hit in found.hits],
        total=found.total,
        question=question,
        summary_url=url("search_summary", "summary"),
        related_url=url("search_related", "related_search"),
        mindmap_url=url("search_mindmap", "query_mindmap"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def search_list_page(request: HtmxHttpRequest) -> HttpResponse:
    """The user's search apps, and a form to start a new one."""
    error = ""
    if request.method == "POST":
        try:
            app = search_create(tenant=request.user, name=request.POST.get("name", ""))
        except ServiceError:
            error = _("Give the search a name (at most 255 bytes).")
        else:
            return redirect("search:search_page", app.pk)
    apps = search_list(tenant=request.user)
    return render(request, "chat/search_list.html", {"apps": apps, "error": error})


@login_required
@require_http_methods(["GET"])
def search_page(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    """The question box, the results of `?question=` and the app's settings."""
    app = _app_or_404(request, search_id)
    question = request.GET.get("question", "")
    context: dict[str, Any] = {
        "app": app,
        "question": question,
        "results": _results(request, app, question),
        "form": SearchAppForm.for_app(app, datasets=_datasets(request)),
    }
    return render(request, "chat/search_page.html", context)


@login_required
@require_http_methods(["GET"])
def search_results(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    """Only the results: what the question box swaps in as the user types."""
    app = _app_or_404(request, search_id)
    question = request.GET.get("question", "")
    response = render(
        request,
        "chat/_search_results.html",
        {"app": app, "results": _results(request, app, question)},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["POST"])
def search_settings(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    app = _app_or_404(request, search_id)
    form = SearchAppForm.for_app(app, request.POST, datasets=_datasets(request))
    if form.is_valid():
        try:
            search_update(
                tenant=request.user,
                search_id=app.pk,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                search_config=form.search_config(),
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("search:search_page", app.pk)
    context = {"app": app, "question": "", "results": Results("idle"), "form": form}
    return render(request, "chat/search_page.html", context, status=400)


@login_required
@require_http_methods(["POST"])
def delete_search(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    app = _app_or_404(request, search_id)
    search_delete(tenant=request.user, search_id=app.pk)
    messages.success(request, _("Search “%(name)s” deleted.") % {"name": app.name})
    if request.htmx:
        return HttpResponseClientRedirect(reverse("search:search_list"))
    return redirect("search:search_list")


async def _one_error(message: str) -> Any:
    yield sse(error_event(message))
    yield sse(TERMINATOR)


@require_http_methods(["GET"])
async def search_summary(request: HttpRequest, search_id: str) -> HttpResponseBase:
    """The summary of `?question=` as the API streams it; logged-in users, their own apps."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse(status=403)
    if await sync_to_async(search_get_owned)(user, search_id) is None:
        raise Http404
    question = request.GET.get("question", "").strip()
    try:
        if not question:
            raise ServiceError(_("Type a question first."))
        ctx, extra = await sync_to_async(search_prepare)(tenant=user, search_id=search_id)
    except ServiceError as exc:
        return event_stream(_one_error(exc.message))
    return event_stream(search_events(ctx, question, extra, render=_summary_html))


def _summary_html(summary: str) -> str:
    """The finished summary as the page shows it: Markdown rendered and sanitized, markers
    dropped (its sources are listed under it)."""
    return str(render_markdown(summary, markers=CITATION))


@login_required
@require_http_methods(["GET"])
def search_related(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    """Questions to search next (the app's model, or the found chunks' own); nothing if none."""
    app = _app_or_404(request, search_id)
    question = request.GET.get("question", "").strip()
    if not question:
        return HttpResponse()
    try:
        scope = extras.suggest_scope(tenant=request.user, search_id=app.pk)
        related = async_to_sync(extras.related_questions)(scope, question)
    except ServiceError:
        return HttpResponse()
    if not related:
        return HttpResponse()
    return render(request, "chat/_related.html", {"related": related})


@login_required
@require_http_methods(["GET"])
def search_mindmap(request: HtmxHttpRequest, search_id: str) -> HttpResponse:
    """A mind map of what the app's knowledge bases say about the question."""
    app = _app_or_404(request, search_id)
    question = request.GET.get("question", "").strip()
    error = ""
    tree: dict[str, Any] | None = None
    try:
        scope = extras.suggest_scope(tenant=request.user, search_id=app.pk)
        if question:
            tree = async_to_sync(extras.mind_map)(scope, question)
    except ServiceError as exc:
        error = exc.message
    return render(request, "chat/_mindmap.html", {"tree": tree, "error": error})
