"""The catch-all under /api/v1: unknown routes answer in the envelope, never with HTML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from ragsite.api.codes import RetCode
from ragsite.api.envelope import envelope_response, error
from ragsite.api.exceptions import NOT_FOUND_MESSAGE


def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    # RAGFlow answers HTTP 200 with code 100 and Werkzeug's NotFound repr (contract §1.1).
    return envelope_response(error(RetCode.EXCEPTION_ERROR, NOT_FOUND_MESSAGE, None))
