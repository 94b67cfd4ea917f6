"""Which RAGFlow API generation a request speaks, where v0.22 and v0.27 answer differently.

Both official SDKs send some identical requests that need different answers (the contract's
conflicts G1–G8: GET /api/v1/chats is a list for ragflow-sdk 0.22 and `{"chats", "total"}`
for 0.27; a bulk delete without `delete_all`; …). In order, the first that speaks decides:

1. the `X-Ragsite-Generation` header (`v0.22` or `v0.27`), for raw HTTP clients;
2. what the request itself shows, when it is unambiguous (each view passes its `signal`,
   e.g. a `delete_all` key only v0.27 clients send);
3. the API key's generation, chosen when the key is made (new keys: v0.27; keys made before
   generations existed: v0.22);
4. RAGSITE_DEFAULT_GENERATION, for requests without a valid key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ragsite.accounts.models import Generation

V0_22 = Generation.V0_22.value
V0_27 = Generation.V0_27.value
HEADER = "HTTP_X_RAGSITE_GENERATION"


def generation_of(request: Any, *, signal: str | None = None) -> str:
    """The generation `request` is answered in (see the module docstring for the order)."""
    header = (request.META.get(HEADER) or "").strip().lower()
    if header in Generation.values:
        return header
    if signal in Generation.values:
        return signal
    key = getattr(request, "api_key", None)
    if key is not None and key.generation in Generation.values:
        return str(key.generation)
    return str(settings.RAGSITE_DEFAULT_GENERATION)


def is_v027(request: Any, *, signal: str | None = None) -> bool:
    return generation_of(request, signal=signal) == V0_27
