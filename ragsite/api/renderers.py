"""DRF renderer that wraps whatever a view returns in the RAGFlow envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

from ragsite.api.envelope import Envelope, dumps, ok


class EnvelopeRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # the body is UTF-8 JSON; RAGFlow sends a bare application/json

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        envelope = data if isinstance(data, Envelope) else (ok() if data is None else ok(data))
        response = (renderer_context or {}).get("response")
        if response is not None:
            # Errors are carried in `code`; the HTTP status stays 200 (contract §1.5).
            response.status_code = 200
        return dumps(envelope.as_dict())
