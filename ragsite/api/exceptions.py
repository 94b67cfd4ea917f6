"""One place that turns every exception raised under /api/v1 into an envelope."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ragsite.api.codes import RetCode
from ragsite.api.envelope import Envelope, error
from ragsite.api.errors import ServiceError

logger = logging.getLogger("ragsite.api")

NOT_FOUND_MESSAGE = "<NotFound '404: Not Found'>"
METHOD_NOT_ALLOWED_MESSAGE = "<MethodNotAllowed '405: Method Not Allowed'>"


def public_message(exc: BaseException) -> str:
    """What a client may read about an unexpected error: never its text, which can hold SQL,
    file paths or the database's socket; the details go to the log under a request id.

    ragsite's own errors (ServiceError, and the model, parsing and DSL errors) carry a
    `message` written for people: that is shown as it is.
    """
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message
    request_id = uuid.uuid4().hex[:12]
    if isinstance(exc, OperationalError | InterfaceError):
        # An outage, not a bug: one line per request, not a traceback each.
        logger.warning("Database unreachable [request %s]: %s", request_id, str(exc).strip())
        return (
            "The database is not reachable at the moment; try again shortly "
            f"(request {request_id})."
        )
    logger.error("Unhandled error [request %s]", request_id, exc_info=exc)
    return f"Internal server error; the server log has the details under request id {request_id}."


def _client_error(exc: BaseException) -> str | None:
    """Requests Django refuses while reading them, in words for the client."""
    if isinstance(exc, TooManyFilesSent):
        return (
            f"Too many files in one request: at most {settings.RAGSITE_MAX_UPLOAD_FILES}. "
            "Upload them in batches."
        )
    if isinstance(exc, TooManyFieldsSent):
        return "Too many form fields in one request."
    if isinstance(exc, RequestDataTooBig):
        return f"The request is larger than the limit of {settings.RAGSITE_MAX_UPLOAD_BYTES} bytes."
    if isinstance(exc, MultiPartParserError):
        return "The multipart body could not be read."
    return None


def envelope_for_exception(exc: BaseException) -> Envelope:
    """Map an exception to the envelope RAGFlow would send for it."""
    client_error = _client_error(exc)
    if client_error is not None:
        return error(RetCode.ARGUMENT_ERROR, client_error)
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
    # Uncaught: RAGFlow's global handler answers code 100 with the exception's repr (or 401
    # when it mentions authorisation). ragsite keeps the code but not the text: a repr can hold
    # SQL, paths or the database's socket. The traceback goes to the log with a request id.
    lowered = repr(exc).lower()
    code = (
        RetCode.UNAUTHORIZED
        if "401" in lowered or "unauthorized" in lowered
        else RetCode.EXCEPTION_ERROR
    )
    if isinstance(exc, DatabaseError) and not isinstance(exc, OperationalError | InterfaceError):
        code = RetCode.EXCEPTION_ERROR
    return error(code, public_message(exc), None)


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: roll back the request's transaction and answer with the envelope."""
    set_rollback()
    return Response(envelope_for_exception(exc), status=200)
