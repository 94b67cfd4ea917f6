"""Answering chat refusals in the wording of the request's RAGFlow generation (contract §2.10)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from chat.services.errors import WordedError
from ragsite.api.generation import is_v027


class ChatApiView(APIView):
    """An APIView whose WordedError refusals take v0.27's words for v0.27 requests.

    A method sets `signal` (ragsite.api.generation) when the route itself tells the
    generation, e.g. a PATCH, which only v0.27 clients send.
    """

    signal: str | None = None

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, WordedError) and is_v027(self.request, signal=self.signal):
            exc = exc.as_v027()
        return super().handle_exception(exc)


@contextmanager
def worded_for(request: Any, *, signal: str | None = None) -> Iterator[None]:
    """The same for code outside DRF (the async completion views)."""
    try:
        yield
    except WordedError as exc:
        if is_v027(request, signal=signal):
            raise exc.as_v027() from exc
        raise
