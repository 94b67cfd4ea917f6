"""HTML views for agents. None exist yet; the page says so instead of faking any."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods


@login_required
@require_http_methods(["GET"])
def agent_list(request: HttpRequest) -> HttpResponse:
    """An honest empty state until agents arrive."""
    return render(request, "agents/agent_list.html")
