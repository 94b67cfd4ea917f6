"""Bearer API-key authentication, quirks included (contract §1.2)."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_authenticate
from ragsite.api.codes import RetCode
from ragsite.api.errors import ServiceError


def tenant_for_authorization(header: str | None) -> User:
    """Resolve an `Authorization` header value to its user, or raise the contract's error.

    Only the second whitespace-separated token is read: RAGFlow never checks the scheme word.
    A missing header answers code 0 with `data: false`, exactly as RAGFlow does.
    """
    if not header or not header.strip():
        raise ServiceError("`Authorization` can't be empty", code=RetCode.SUCCESS, data=False)
    parts = header.split()
    if len(parts) < 2:
        raise ServiceError(
            "Please check your authorization format.", code=RetCode.SUCCESS, data=False
        )
    user = api_key_authenticate(parts[1])
    if user is None:
        raise ServiceError(
            "Authentication error: API key is invalid!",
            code=RetCode.AUTHENTICATION_ERROR,
            data=False,
        )
    return user


class ApiRequest(Request):
    """A DRF request that passed ApiKeyAuthentication: `user` is always a real tenant."""

    user: User


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, Any]:
        return tenant_for_authorization(request.META.get("HTTP_AUTHORIZATION")), None
