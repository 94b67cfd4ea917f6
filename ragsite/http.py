"""Shared pieces of the HTML views: the typed request and an HTMX-aware login_required."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required as auth_login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from ragsite.accounts.models import User


class HtmxHttpRequest(HttpRequest):
    """A logged-in request that went through HtmxMiddleware (django-htmx's typing pattern)."""

    htmx: HtmxDetails
    user: User


def login_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Django's login_required, except that an HTMX request gets a full-page redirect.

    A plain 302 would be followed inside the XHR and the login page swapped into a fragment.
    """
    guarded = auth_login_required(view)

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.htmx and not request.user.is_authenticated:
            # Come back to the page the user was on, not to the fragment's URL.
            next_url = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(next_url).url)
        return guarded(request, *args, **kwargs)

    return wrapper
