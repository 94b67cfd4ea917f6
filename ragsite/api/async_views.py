"""Plain async Django views under /api/v1 (streams), with the same auth and envelope as DRF.

DRF's APIView is synchronous; streaming answers need async views served by Daphne so a slow
model never holds a worker thread. This decorator gives them bearer auth and envelope errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from ragsite.accounts.models import User
from ragsite.api.auth import tenant_for_request
from ragsite.api.codes import RetCode
from ragsite.api.envelope import envelope_response, error
from ragsite.api.exceptions import METHOD_NOT_ALLOWED_MESSAGE, envelope_for_exception

AsyncApiView = Callable[..., Awaitable[HttpResponseBase]]


def async_api_view(*methods: str, authenticate: bool = True) -> Callable[[AsyncApiView], Any]:
    """Allow `methods`, resolve the bearer key to `user`, and answer any error in the envelope."""

    def decorator(view: AsyncApiView) -> AsyncApiView:
        @csrf_exempt  # bearer-authenticated JSON API: no cookies, no CSRF
        @wraps(view)
        async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                return envelope_response(
                    error(RetCode.EXCEPTION_ERROR, METHOD_NOT_ALLOWED_MESSAGE, None)
                )
            try:
                if authenticate:
                    user: User = await sync_to_async(tenant_for_request)(request)
                    return await view(request, user, *args, **kwargs)
                return await view(request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure is answered in the envelope
                return envelope_response(envelope_for_exception(exc))

        return wrapper

    return decorator
