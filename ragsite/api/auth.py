"""Bearer API-key authentication, quirks included (contract §1.2)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from ragsite.accounts import throttle
from ragsite.accounts.models import ApiKey, User
from ragsite.accounts.services import api_key_authenticate
from ragsite.api.codes import RetCode
from ragsite.api.errors import ServiceError


def key_for_authorization(header: str | None, *, client_ip: str) -> ApiKey:
    """Resolve an `Authorization` header value to its key, or raise the contract's error.

    Only the second whitespace-separated token is read: RAGFlow never checks the scheme word.
    A missing header answers code 0 with `data: false`, exactly as RAGFlow does. An address
    that sent too many unknown keys lately is refused before any lookup, with RAGFlow's
    bad-key code (109).
    """
    if not header or not header.strip():
        raise ServiceError("`Authorization` can't be empty", code=RetCode.SUCCESS, data=False)
    parts = header.split()
    if len(parts) < 2:
        raise ServiceError(
            "Please check your authorization format.", code=RetCode.SUCCESS, data=False
        )
    if (seconds := throttle.api_key_retry_after(client_ip)) is not None:
        raise ServiceError(
            f"Too many failed API-key attempts from this address; try again in {seconds} seconds.",
            code=RetCode.AUTHENTICATION_ERROR,
            data=False,
        )
    key = api_key_authenticate(parts[1])
    if key is None:
        throttle.api_key_failed(client_ip)
        raise ServiceError(
            "Authentication error: API key is invalid!",
            code=RetCode.AUTHENTICATION_ERROR,
            data=False,
        )
    return key


def tenant_for_request(request: HttpRequest | Request) -> User:
    """`key_for_authorization` for a request's header and client address.

    The key is kept on the request (`api_key`): its generation decides the answers where the
    two RAGFlow API generations differ (ragsite.api.generation).
    """
    key = key_for_authorization(
        request.META.get("HTTP_AUTHORIZATION"), client_ip=throttle.client_ip(request)
    )
    django_request = getattr(request, "_request", request)
    django_request.api_key = key  # type: ignore[union-attr]
    return key.user


class ApiRequest(Request):
    """A DRF request that passed ApiKeyAuthentication: `user` is always a real tenant."""

    user: User


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Any]:
        return tenant_for_request(request), None
