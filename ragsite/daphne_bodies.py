"""Daphne hands every request body to Django untouched.

Daphne's requests are Twisted's `http.Request`, which parses a POST's multipart or URL-encoded
body into `request.args` before Daphne sees it. Daphne never reads those args, so each upload
was parsed (and held in memory) twice, and a multipart body Twisted cannot parse — an empty
one, `--x--`, no boundary — got a bare `400 Bad Request` with no body, before Django and its
JSON envelope could answer. With this, Django's own parser decides, and /api/v1 answers in
the envelope (ragsite.api).
"""

from __future__ import annotations

from typing import Any


def pass_bodies_through() -> None:
    """Make Daphne's request class skip Twisted's form parsing (idempotent)."""
    try:
        from daphne import http_protocol
    except ImportError:  # not running under Daphne
        return
    if getattr(http_protocol.WebRequest, "passes_bodies_through", False):
        return

    class WebRequest(http_protocol.WebRequest):
        passes_bodies_through = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Read by twisted.web.http.Request.requestReceived, after __init__.
            self._parsePOSTFormSubmission = False

    # HTTPFactory.buildProtocol looks the class up by this module-level name.
    http_protocol.WebRequest = WebRequest
