"""Refusals that RAGFlow v0.27 words differently from v0.22 (contract §2.10).

The services speak one language: v0.22's messages, which the HTML forms also read. Where
v0.27 says the same thing in other words (or with another code), the error carries that
wording too, and the API layer picks one by the request's generation (chat/api/wording.py).
"""

from __future__ import annotations

from typing import Any

from ragsite.api.codes import RetCode
from ragsite.api.errors import DataError, ServiceError

_SAME = object()


class WordedError(DataError):
    """A refusal with a v0.22 message and its v0.27 wording (`v027`, `v027_code`, `v027_data`)."""

    def __init__(
        self,
        message: str,
        *,
        v027: str,
        code: RetCode | None = None,
        data: Any = None,
        v027_code: RetCode | None = None,
        v027_data: Any = _SAME,
    ) -> None:
        super().__init__(message, code=code, data=data)
        self.v027 = v027
        self.v027_code = v027_code if v027_code is not None else self.code
        self.v027_data = data if v027_data is _SAME else v027_data

    def as_v027(self) -> ServiceError:
        return ServiceError(self.v027, code=self.v027_code, data=self.v027_data)


def no_authorization(message: str) -> WordedError:
    """A chat or session the caller does not own: v0.22 says so in `message`, v0.27 says
    109 `no authorization` with `data: false`."""
    return WordedError(
        message, v027="no authorization", v027_code=RetCode.AUTHENTICATION_ERROR, v027_data=False
    )
