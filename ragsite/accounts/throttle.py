"""Who is knocking, and how often they got it wrong: client addresses, log-in lockouts and
API-key failure counters.

Log-in failures are django-axes' (recorded in the database, listed in the admin). API-key failures
are counted here, per client address, in Django's cache, which settings point at Valkey so every
web process shares the counters.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

log = logging.getLogger(__name__)


def client_ip(request: Any) -> str:
    """The client's address: the socket peer, or behind a trusted proxy (RAGSITE_BEHIND_TLS_PROXY)
    the last X-Forwarded-For entry, the one that proxy appended. Earlier entries come from the
    client and prove nothing.

    Takes a Django or DRF request (anything with `META`); django-axes calls it too.
    """
    meta: Mapping[str, str] = request.META
    if settings.RAGSITE_BEHIND_TLS_PROXY:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if _is_ip(forwarded):
            return forwarded
    remote = meta.get("REMOTE_ADDR", "")
    return remote if _is_ip(remote) else ""


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# --- log-in lockouts (django-axes) ----------------------------------------------------------------


def login_locked_until(request: Any, credentials: dict[str, Any] | None) -> datetime | None:
    """When the lockout that refused this log-in ends, at the latest; None if unknown.

    Every failure counted against the client's address or the account is younger than one
    cool-off, so the lockout is over one cool-off after the latest of them.
    """
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    handler = AxesProxyHandler.get_implementation()
    if cool_off is None or not hasattr(handler, "get_user_attempts"):
        return None
    AxesProxyHandler.update_request(request)
    latest = [
        attempts.aggregate(latest=Max("attempt_time"))["latest"]
        for attempts in handler.get_user_attempts(request, credentials)
    ]
    times = [t for t in latest if t is not None]
    return max(times) + cool_off if times else None


# --- API-key failures -----------------------------------------------------------------------------


def _keys(ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"api-key-failures:{digest}", f"api-key-failures-until:{digest}"


def api_key_retry_after(ip: str) -> int | None:
    """Seconds until `ip` may try keys again, or None if it has not failed too often.

    An unreachable cache lets the request through (logged): the throttle must not turn a Valkey
    outage into an API outage.
    """
    count_key, until_key = _keys(ip)
    try:
        values = cache.get_many([count_key, until_key])
    except Exception:  # noqa: BLE001 - any cache failure: serve rather than refuse
        log.warning("API-key throttle: cache unreachable, not throttling", exc_info=True)
        return None
    if values.get(count_key, 0) < settings.RAGSITE_API_KEY_FAILURE_LIMIT:
        return None
    until = values.get(until_key)
    window = settings.RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS
    remaining = until - time.time() if until is not None else window
    return max(1, math.ceil(remaining))


def api_key_failed(ip: str) -> None:
    """Count one unknown key from `ip`; the window starts at the first failure and lasts
    RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS."""
    count_key, until_key = _keys(ip)
    window = settings.RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS
    try:
        if cache.add(count_key, 1, timeout=window):
            cache.set(until_key, time.time() + window, timeout=window)
            return
        try:
            cache.incr(count_key)
        except ValueError:  # the window ended between add() and incr(): start a new one
            cache.set(count_key, 1, timeout=window)
            cache.set(until_key, time.time() + window, timeout=window)
    except Exception:  # noqa: BLE001 - see api_key_retry_after
        log.warning("API-key throttle: cache unreachable, failure not counted", exc_info=True)
