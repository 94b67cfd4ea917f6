"""Keeps everything under /api/ in the envelope: CORS, stray errors, non-JSON error pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.utils.deprecation import MiddlewareMixin

from ragsite.api.codes import RetCode
from ragsite.api.envelope import envelope_response, error
from ragsite.api.exceptions import (
    METHOD_NOT_ALLOWED_MESSAGE,
    NOT_FOUND_MESSAGE,
    envelope_for_exception,
)
from ragsite.text import clean_text

API_PREFIX = "/api/"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "86400",
}


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _cleaned(query: QueryDict) -> Any:
    """A copy of `query` without the characters PostgreSQL refuses, or None if it had none."""
    texts = list(query) + [v for _, values in query.lists() for v in values]
    if all(clean_text(text) == text for text in texts):
        return None
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        cleaned.setlist(clean_text(key), [clean_text(v) for v in values])
    cleaned._mutable = False
    return cleaned


class ApiMiddleware(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        # Text enters through the path and the query string too (ragsite/text.py).
        request.path_info = clean_text(request.path_info)
        query = _cleaned(request.GET)
        if query is not None:
            request.GET = query
        if (
            not is_api_request(request)
            and request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
        ):
            form = _cleaned(request.POST)
            if form is not None:
                request.POST = form
        if is_api_request(request) and request.method == "OPTIONS":
            # CORS preflight: RAGFlow allows every origin.
            return HttpResponse(status=200)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Non-DRF views (streams, downloads) raise straight through; answer in the envelope
        # rather than with Django's HTML error page or a traceback.
        if is_api_request(request):
            return envelope_response(envelope_for_exception(exception))
        return None

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not is_api_request(request):
            return response
        if response.status_code in (404, 405, 500) and "json" not in response.get(
            "Content-Type", ""
        ):
            message = {404: NOT_FOUND_MESSAGE, 405: METHOD_NOT_ALLOWED_MESSAGE}.get(
                response.status_code, "Internal server error"
            )
            response = envelope_response(error(RetCode.EXCEPTION_ERROR, message, None))
        for header, value in CORS_HEADERS.items():
            response.setdefault(header, value)
        return response
