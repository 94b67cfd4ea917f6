"""One Valkey connection pool per web process, not one per request (ragsite.cache)."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest
from django.core.cache import caches


def client_seen_by_a_new_request() -> Any:
    """The cache client a request would use: under ASGI each request runs in a context and a
    thread of its own, so Django hands it a cache object of its own."""
    seen: list[Any] = []

    def grab() -> None:
        seen.append(caches["default"]._cache)

    thread = threading.Thread(target=contextvars.Context().run, args=(grab,))
    thread.start()
    thread.join()
    return seen[0]


def test_cache_objects_of_different_requests_share_one_client_and_pool(settings: Any) -> None:
    settings.CACHES = {  # the tests' default is the local-memory cache
        "default": {
            "BACKEND": "ragsite.cache.SharedPoolRedisCache",
            "LOCATION": "redis://127.0.0.1:6390/2",  # not reached: pools connect lazily
        }
    }
    first, second = client_seen_by_a_new_request(), client_seen_by_a_new_request()

    assert first is second
    assert first._get_connection_pool(write=False) is second._get_connection_pool(write=False)
    # and one redis-py client on that pool, not a new one per operation
    assert first.get_client(write=False) is second.get_client(write=True)
    assert first.get_client().connection_pool is first._get_connection_pool(write=False)


def test_the_shared_redis_client_reads_and_writes(settings: Any, valkey_url: str) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "ragsite.cache.SharedPoolRedisCache", "LOCATION": valkey_url}
    }
    cache = caches["default"]
    cache.set("shared-client-test", 41)
    values: list[Any] = []

    def read() -> None:
        values.append(cache.incr("shared-client-test"))

    threads = [threading.Thread(target=contextvars.Context().run, args=(read,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(values) == [42, 43, 44, 45]
    assert cache.get("shared-client-test") == 45
    cache.delete("shared-client-test")


@pytest.mark.slow
def test_api_requests_through_daphne_reuse_their_valkey_connections(
    transactional_db: None, live_server_url: str, valkey_url: str, api_key: str
) -> None:
    import httpx
    import redis

    valkey = redis.Redis.from_url(valkey_url)
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=live_server_url, timeout=60) as http:
        assert http.get("/api/v1/datasets", headers=headers).json()["code"] == 0
        before = valkey.info("stats")["total_connections_received"]
        for _ in range(30):
            assert http.get("/api/v1/datasets", headers=headers).json()["code"] == 0
        after = valkey.info("stats")["total_connections_received"]

    # Each request reads the API-key throttle's counters from Valkey; with a pool per request
    # that was 30 new connections. Other live tests' processes may connect meanwhile: a few.
    assert after - before < 10, f"{after - before} new Valkey connections for 30 requests"
