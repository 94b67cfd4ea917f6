"""The RAGFlow response envelope, produced here and nowhere else (contract §1.3).

Success: `{"code": 0}` or `{"code": 0, "data": X}` plus endpoint extras such as
`total_datasets`; the message is dropped on success. Errors: exactly `{"code", "message"}`
(the SDK's `Document.download()` tells errors from file bytes by that key set), plus `data`
only where RAGFlow sends it (the auth errors).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from ragsite.api.codes import RetCode

_NO_DATA = object()


@dataclass
class Envelope:
    data: Any = _NO_DATA
    code: int = RetCode.SUCCESS
    message: str | bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": int(self.code)}
        if self.message is not None:
            body["message"] = self.message
        if self.data is not _NO_DATA:
            body["data"] = self.data
        body.update(self.extra)
        return body


def ok(data: Any = _NO_DATA, **extra: Any) -> Envelope:
    return Envelope(data=data, extra=extra)


def ok_with_message(data: Any) -> Envelope:
    """RAGFlow's `get_json_result` success shape: `{"code":0,"message":"success","data":X}`."""
    return Envelope(data=data, message="success")


def ok_memory(data: Any = _NO_DATA, message: str | bool = True) -> Envelope:
    """The memory routes' success shape (RAGFlow v0.27): `{"code":0,"message":true,"data":X}`."""
    return Envelope(data=data, message=message)


def error(code: int, message: str, data: Any = _NO_DATA) -> Envelope:
    return Envelope(data=data, code=code, message=message)


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def envelope_response(envelope: Envelope) -> HttpResponse:
    """A plain Django response carrying the envelope, for code outside DRF (middleware, ASGI views)."""
    # RAGFlow answers HTTP 200 for nearly everything, errors included (contract §1.5).
    return HttpResponse(dumps(envelope.as_dict()), content_type="application/json")
