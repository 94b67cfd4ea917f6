"""Django's ASGI handler, with sync views served whole in one job on a pool of threads.

Under ASGI Django runs its middleware in async mode, and every classic middleware method
(`process_request`, `process_response`: SecurityMiddleware, sessions, CSRF, auth, messages …)
is then called through `sync_to_async`: two hops to a worker thread and back per middleware,
some twenty per request, before the sync view itself hops once more. Measured through Daphne on
GET /api/v1/datasets that cost ~8 ms of CPU per request beyond the same request in-process.

A request whose view is a plain function or a DRF view (almost all of them) is therefore served
as WSGI would serve it — the request signals, a sync-mode copy of the middleware stack and the
view — in one job on a thread of a long-lived pool, instead of Django's three `sync_to_async`
hops (request_started, the response, response.close()) on a thread started and joined for each
request. In-process through the ASGI app that took GET /api/v1/datasets from ~6.5 to ~5.2 ms
of CPU and POST /api/v1/retrieval from ~13.8 to ~13.0 ms. Views written as coroutines (the
streamed chat completions, search summaries) keep Django's async path unchanged, so streaming
holds no thread.

The pool's threads are reused like a threaded WSGI server's: Django's per-thread state (the
database connection) is opened and given back by the request signals as there; each request
runs in a copy of its own task's context.
"""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver, set_script_prefix


class SyncHandler(BaseHandler):
    """The sync middleware chain; reuses the URL match the ASGI handler already made."""

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        path_info, match = getattr(request, "ragsite_match", ("", None))
        if match is None or hasattr(request, "urlconf") or request.path_info != path_info:
            return super().resolve_request(request)  # a middleware changed the request
        request.resolver_match = match
        return match


class RagsiteASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()  # loads the async-mode middleware chain
        self.sync_handler = SyncHandler()
        self.sync_handler.load_middleware(is_async=False)
        # The pool starts its threads as requests need them (up to RAGSITE_SYNC_VIEW_THREADS
        # at once, so slow views cannot starve the others) and then keeps them.
        self.executor = ThreadPoolExecutor(
            settings.RAGSITE_SYNC_VIEW_THREADS, thread_name_prefix="sync-view"
        )

    @staticmethod
    def match(path_info: str) -> ResolverMatch | None:
        try:
            match = get_resolver(settings.ROOT_URLCONF).resolve(path_info)
        except Resolver404:
            return None  # the sync chain answers the 404 as well as the async one
        return match

    @staticmethod
    def serves_async(match: ResolverMatch | None) -> bool:
        """Whether the view is a coroutine (Django's async path); a 404 is answered sync."""
        return match is not None and iscoroutinefunction(match.func)

    @classmethod
    def view_is_async(cls, path_info: str) -> bool:
        return cls.serves_async(cls.match(path_info))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            # As ASGIRequest derives it.
            script_name = get_script_prefix(scope)
            path_info = scope["path"].removeprefix(script_name) if script_name else scope["path"]
            match = self.match(path_info)
            if not self.serves_async(match):
                await self.handle_sync(scope, receive, send, (path_info, match))
                return
        await super().__call__(scope, receive, send)  # Django's own, async path

    async def handle_sync(
        self, scope: dict[str, Any], receive: Any, send: Any, match: tuple[str, Any]
    ) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        try:
            response = await loop.run_in_executor(
                self.executor, context.run, self.respond, scope, body_file, match
            )
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # its file is closed, request_finished sent
                    await loop.run_in_executor(self.executor, context.run, response.close)
        finally:
            body_file.close()

    def respond(
        self, scope: dict[str, Any], body_file: Any, match: tuple[str, Any]
    ) -> HttpResponseBase:
        """What Django's handle() does between reading the body and sending, in one thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            request.ragsite_match = match  # type: ignore[attr-defined]
            response = self.sync_handler.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if response.streaming:
            # Its content is read while it is sent; the connection this thread used goes
            # back now (response.close() runs later, on whichever thread is free).
            close_old_connections()
        else:
            response.close()  # request_finished: this thread's connection goes back
        return response
