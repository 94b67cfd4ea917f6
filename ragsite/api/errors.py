"""Errors services raise; the API layer turns each into one envelope (`{code, message}`)."""

from __future__ import annotations

from typing import Any

from ragsite.api.codes import RetCode


class ServiceError(Exception):
    """A business-rule failure with a RAGFlow return code and a message meant for people.

    Services raise these; views never build error bodies themselves. `data`, when given, is
    added to the envelope (RAGFlow's auth errors carry `data: false`).
    """

    code: RetCode = RetCode.DATA_ERROR

    def __init__(self, message: str, *, code: RetCode | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data = data


class ArgumentError(ServiceError):
    code = RetCode.ARGUMENT_ERROR


class DataError(ServiceError):
    code = RetCode.DATA_ERROR


class AccessDenied(ServiceError):
    code = RetCode.PERMISSION_ERROR


class OperatingError(ServiceError):
    code = RetCode.OPERATING_ERROR


class AuthenticationError(ServiceError):
    code = RetCode.AUTHENTICATION_ERROR


class ExceptionError(ServiceError):
    """What RAGFlow reports as code 100 with a Python repr, e.g. LookupError("...")."""

    code = RetCode.EXCEPTION_ERROR


class NotFoundError(ServiceError):
    code = RetCode.NOT_FOUND


class ServerError(ServiceError):
    code = RetCode.SERVER_ERROR
