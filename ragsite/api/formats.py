"""Timestamp shapes RAGFlow clients read (contract §1.6)."""

from __future__ import annotations

from datetime import datetime

from django.utils.http import http_date


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def rfc1123(moment: datetime | None) -> str | None:
    """E.g. "Mon, 28 Apr 2025 18:40:41 GMT"."""
    return None if moment is None else http_date(moment.timestamp())
