"""The Memory page: a user's memories (create, settings, delete) and a memory's messages, with
a search box whose results come as you type (HTMX), over the same services as /api/v1/memories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from agents.forms import MemoryForm
from agents.models import Memory, MemoryMessage
from agents.selectors import (
    MemoryFilters,
    memory_derived_messages,
    memory_get_or_raise,
    memory_list,
    memory_message_get_or_raise,
    memory_raw_messages,
)
from agents.services import memories as services
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required

MESSAGES_SHOWN = 50
RESULTS_SHOWN = 10


def _memory_or_404(request: HtmxHttpRequest, memory_id: str) -> Memory:
    try:
        return memory_get_or_raise(request.user, memory_id)
    except ServiceError as exc:
        raise Http404 from exc


def _form_for(memory: Memory, data: Any = None) -> MemoryForm:
    initial = {
        "name": memory.name,
        "description": memory.description or "",
        "memory_type": memory.type_names,
        "embd_id": memory.embd_id,
        "llm_id": memory.llm_id,
        "permissions": memory.permissions,
        "memory_size": memory.memory_size,
        "temperature": memory.temperature,
    }
    return MemoryForm(data, initial=initial)


@dataclass(frozen=True)
class Row:
    message: MemoryMessage
    extracted: list[MemoryMessage]


def _rows(memory: Memory) -> tuple[list[Row], int]:
    raws = memory_raw_messages(memory)
    page = list(raws[:MESSAGES_SHOWN])
    derived: dict[int, list[MemoryMessage]] = {}
    for message in memory_derived_messages(memory, [m.pk for m in page]):
        derived.setdefault(message.source_id or 0, []).append(message)
    return [Row(m, derived.get(m.pk, [])) for m in page], raws.count()


@login_required
@require_http_methods(["GET", "POST"])
def memory_list_page(request: HtmxHttpRequest) -> HttpResponse:
    """The user's memories, and a form to create one."""
    form = MemoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            memory = services.memory_create(
                tenant=request.user,
                name=data["name"],
                memory_type=list(data["memory_type"]),
                embd_id=data["embd_id"],
                llm_id=data["llm_id"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Memory “%(name)s” created.") % {"name": memory.name})
            return redirect("memory:memory_page", memory.pk)
    memories = memory_list(request.user, MemoryFilters())
    status = 400 if request.method == "POST" else 200
    return render(
        request, "agents/memory_list.html", {"memories": memories, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET"])
def memory_page(request: HtmxHttpRequest, memory_id: str) -> HttpResponse:
    memory = _memory_or_404(request, memory_id)
    rows, total = _rows(memory)
    query = request.GET.get("query", "")
    context = {
        "memory": memory,
        "rows": rows,
        "total": total,
        "query": query,
        "hits": _hits(memory, query),
        "form": _form_for(memory),
        "no_extraction": services.extraction_model(memory) is None,
    }
    return render(request, "agents/memory_page.html", context)


def _hits(memory: Memory, query: str) -> list[services.ScoredMessage] | None:
    if not query.strip():
        return None
    return services.memory_search(
        memories=[memory],
        query=query,
        filters=services.SearchFilters(),
        similarity_threshold=0.2,
        vector_weight=0.7,
        top_n=RESULTS_SHOWN,
    )


@login_required
@require_http_methods(["GET"])
def memory_search_results(request: HtmxHttpRequest, memory_id: str) -> HttpResponse:
    memory = _memory_or_404(request, memory_id)
    query = request.GET.get("query", "")
    response = render(
        request,
        "agents/_memory_results.html",
        {"memory": memory, "query": query, "hits": _hits(memory, query)},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["POST"])
def memory_settings(request: HtmxHttpRequest, memory_id: str) -> HttpResponse:
    memory = _memory_or_404(request, memory_id)
    form = _form_for(memory, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        changes = {**data, "memory_type": list(data["memory_type"])}
        if changes.get("temperature") is None:
            changes.pop("temperature")
        try:
            services.memory_update(user=request.user, memory_id=memory.pk, changes=changes)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("memory:memory_page", memory.pk)
    rows, total = _rows(memory)
    context = {
        "memory": memory,
        "rows": rows,
        "total": total,
        "query": "",
        "hits": None,
        "form": form,
        "no_extraction": services.extraction_model(memory) is None,
    }
    return render(request, "agents/memory_page.html", context, status=400)


@login_required
@require_http_methods(["POST"])
def memory_delete(request: HtmxHttpRequest, memory_id: str) -> HttpResponse:
    memory = _memory_or_404(request, memory_id)
    services.memory_delete(user=request.user, memory_id=memory.pk)
    messages.success(request, _("Memory “%(name)s” deleted.") % {"name": memory.name})
    if request.htmx:
        return HttpResponseClientRedirect(reverse("memory:memory_list"))
    return redirect("memory:memory_list")


def _message_or_404(memory: Memory, message_id: int) -> MemoryMessage:
    try:
        return memory_message_get_or_raise(memory, message_id)
    except ServiceError as exc:
        raise Http404 from exc


def _message_response(request: HtmxHttpRequest, memory: Memory, message_id: int) -> HttpResponse:
    message = _message_or_404(memory, message_id)
    if request.htmx:
        return render(
            request, "agents/_memory_message.html", {"memory": memory, "message": message}
        )
    return redirect("memory:memory_page", memory.pk)


@login_required
@require_http_methods(["POST"])
def message_status(request: HtmxHttpRequest, memory_id: str, message_id: int) -> HttpResponse:
    """Enable or disable one message (a disabled one is not searched)."""
    memory = _memory_or_404(request, memory_id)
    message = _message_or_404(memory, message_id)
    services.message_set_status(
        user=request.user, memory_id=memory.pk, message_id=message.pk, status=not message.status
    )
    return _message_response(request, memory, message_id)


@login_required
@require_http_methods(["POST"])
def message_forget(request: HtmxHttpRequest, memory_id: str, message_id: int) -> HttpResponse:
    memory = _memory_or_404(request, memory_id)
    _message_or_404(memory, message_id)
    services.message_forget(user=request.user, memory_id=memory.pk, message_id=message_id)
    return _message_response(request, memory, message_id)
