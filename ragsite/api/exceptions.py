"""One place that turns every exception raised under /api/v1 into an envelope."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ragsite.api.codes import RetCode
from ragsite.api.envelope import Envelope, error
from ragsite.api.errors import ServiceError

logger = logging.getLogger("ragsite.api")

NOT_FOUND_MESSAGE = "<NotFound '404: Not Found'>"
METHOD_NOT_ALLOWED_MESSAGE = "<MethodNotAllowed '405: Method Not Allowed'>"


def envelope_for_exception(exc: BaseException) -> Envelope:
    """Map an exception to the envelope RAGFlow would send for it."""
    if isinstance(exc, ServiceError):
        if exc.data is not None:
            return error(exc.code, exc.message, exc.data)
        return error(exc.code, exc.message)
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return error(RetCode.EXCEPTION_ERROR, METHOD_NOT_ALLOWED_MESSAGE, None)
    if isinstance(exc, Http404 | drf_exceptions.NotFound):
        return error(RetCode.EXCEPTION_ERROR, NOT_FOUND_MESSAGE, None)
    if isinstance(exc, drf_exceptions.UnsupportedMediaType | drf_exceptions.ParseError):
        return error(RetCode.ARGUMENT_ERROR, str(exc.detail))
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return error(
            RetCode.AUTHENTICATION_ERROR, "Authentication error: API key is invalid!", False
        )
    if isinstance(exc, PermissionDenied | drf_exceptions.PermissionDenied):
        return error(RetCode.PERMISSION_ERROR, "No authorization.")
    if isinstance(exc, drf_exceptions.APIException):
        return error(RetCode.EXCEPTION_ERROR, str(exc.detail))
    # Uncaught: RAGFlow's global handler answers code 100 with the exception's repr, or 401
    # when that repr mentions authorisation. The traceback goes to the log, never the client.
    logger.exception("Unhandled error in API request", exc_info=exc)
    message = repr(exc)
    lowered = message.lower()
    code = (
        RetCode.UNAUTHORIZED
        if "401" in lowered or "unauthorized" in lowered
        else RetCode.EXCEPTION_ERROR
    )
    return error(code, message, None)


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: roll back the request's transaction and answer with the envelope."""
    set_rollback()
    return Response(envelope_for_exception(exc), status=200)
