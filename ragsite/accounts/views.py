"""HTML views for the account pages: API keys, settings, and the log-in lockout page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ragsite.accounts import services
from ragsite.accounts.forms import ApiKeyCreateForm, LoginForm
from ragsite.accounts.models import ApiKey, Generation
from ragsite.accounts.throttle import login_locked_until
from ragsite.http import HtmxHttpRequest, login_required


def locked_out(request: HttpRequest, credentials: dict[str, Any] | None) -> HttpResponse:
    """The log-in page, saying the log-in is paused and until when (django-axes' lockout
    response, for the site's and the admin's log-in alike)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "form": LoginForm(request, initial={"username": username}),
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_out": True,
        "locked_until": login_locked_until(request, credentials),
        "cooloff_minutes": settings.RAGSITE_LOGIN_COOLOFF_MINUTES,
    }
    # 429 Too Many Requests, with a page people can read.
    return render(request, "registration/login.html", context, status=429)


@login_required
@require_http_methods(["GET"])
def api_key_list(request: HtmxHttpRequest) -> HttpResponse:
    """The user's API keys and a form to create one."""
    context = {"keys": services.api_key_list(user=request.user), "form": ApiKeyCreateForm()}
    return render(request, "accounts/api_key_list.html", context)


@login_required
@require_http_methods(["POST"])
@never_cache  # the response carries the clear key: keep it out of every cache
def create_api_key(request: HtmxHttpRequest) -> HttpResponse:
    """Issue a key and show it in clear this one time; only its digest is stored."""
    form = ApiKeyCreateForm(request.POST)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        _key, raw_key = services.api_key_create(
            user=request.user,
            name=form.cleaned_data["name"],
            generation=form.cleaned_data["generation"] or Generation.V0_27,
        )
        # The clear key goes into this response and nowhere else (not even the session), so a
        # reload cannot show it again.
        context = {"form": ApiKeyCreateForm(), "raw_key": raw_key}
    context["keys"] = services.api_key_list(user=request.user)
    # HTMX swaps the keys region; without JavaScript the whole page is the response (no
    # redirect: the clear key must not travel through a URL or the session).
    template = "accounts/_api_keys.html" if request.htmx else "accounts/api_key_list.html"
    return render(request, template, context)


@login_required
@require_http_methods(["POST"])
def revoke_api_key(request: HtmxHttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the user's keys; another user's key id is a 404."""
    key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
    # False only means "already revoked" here (ownership was checked above): nothing to report.
    services.api_key_revoke(user=request.user, key_id=key.pk)
    if request.htmx:
        key.refresh_from_db()
        return render(request, "accounts/_api_key_row.html", {"key": key})
    return redirect("accounts:api_keys")


@login_required
@require_http_methods(["GET"])
def account_settings(request: HtmxHttpRequest) -> HttpResponse:
    """Account details, language, password and how to point ragflow-sdk at this server."""
    context = {
        "teams": request.user.groups.order_by("name"),
        "api_base_url": f"{request.scheme}://{request.get_host()}",
    }
    return render(request, "accounts/settings.html", context)
