"""Django's Redis cache with one connection pool per process instead of one per request.

Django keeps a cache object per async context, and under ASGI every request runs in a context
of its own: each API request built a new RedisCacheClient, hence a new connection pool and a
new TCP connection to Valkey for the API-key throttle's one read, then dropped it. Here the
clients (and their pools, which redis-py makes safe across threads and forks) are shared by
every cache object with the same servers and options. Django also wraps the pool in a new
`redis.Redis` for every operation, whose constructor builds a table of ~170 reply callbacks
(~0.15 ms of CPU, on every API request for the throttle's read); one `Redis` per pool serves
all threads, as redis-py allows.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django's client, with one `redis.Redis` per connection pool instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._redis_clients.get(id(pool))
        if client is None:
            made = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            client = self._redis_clients.setdefault(id(pool), made)
        return client


class SharedPoolRedisCache(RedisCache):
    _clients: ClassVar[dict[str, RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
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
