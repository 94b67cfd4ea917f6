"""Django's Redis cache with one connection pool per process instead of one per request.

Django keeps a cache object per async context, and under ASGI every request runs in a context
of its own: each API request built a new RedisCacheClient, hence a new connection pool and a
new TCP connection to Valkey for the API-key throttle's one read, then dropped it. Here the
clients (and their pools, which redis-py makes safe across threads and forks) are shared by
every cache object with the same servers and options.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedPoolRedisCache(RedisCache):
    _clients: ClassVar[dict[str, RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._shared_key = repr((server, sorted(params.get("OPTIONS", {}).items())))

    @cached_property
    def _cache(self) -> RedisCacheClient:
        with self._lock:
            client = self._clients.get(self._shared_key)
            if client is None:
                # Django's own: a RedisCacheClient for these servers and options.
                client = RedisCache._cache.func(self)  # type: ignore[attr-defined]
                self._clients[self._shared_key] = client
        return client
