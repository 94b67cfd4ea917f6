"""Django's ASGI handler, with sync views served through a sync middleware chain in one thread.

Under ASGI Django runs its middleware in async mode, and every classic middleware method
(`process_request`, `process_response`: SecurityMiddleware, sessions, CSRF, auth, messages …)
is then called through `sync_to_async`: two hops to a worker thread and back per middleware,
some twenty per request, before the sync view itself hops once more. Measured through Daphne on
GET /api/v1/datasets that cost ~8 ms of CPU per request beyond the same request in-process.

A request whose view is a plain function or a DRF view (almost all of them) therefore goes
through a second, sync-mode copy of the same middleware stack — what WSGI would run — in one
`sync_to_async` call: one hop. Views written as coroutines (the streamed chat completions,
search summaries) keep Django's async path unchanged, so streaming holds no thread.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, get_resolver


class RagsiteASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # loads the async-mode middleware chain
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)

    @staticmethod
    def view_is_async(request: HttpRequest) -> bool:
        try:
            match = get_resolver(settings.ROOT_URLCONF).resolve(request.path_info)
        except Resolver404:
            return False  # the sync chain answers the 404 as well as the async one
        return iscoroutinefunction(match.func)

    async def get_response_async(self, request: HttpRequest) -> Any:
        if self.view_is_async(request):
            return await super().get_response_async(request)
        response: HttpResponseBase = await sync_to_async(
            self.sync_handler.get_response, thread_sensitive=True
        )(request)
        return response
