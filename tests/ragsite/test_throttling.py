"""Throttling (issue 18, defect 8): log-in lockouts (django-axes) and API-key attempts per address.

"40 wrong logins in 9.8 s, then the right password still worked; 100 wrong API keys in 3.1 s,
all answered."
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.settings import redis_url_with_db
from tests.helpers import assert_error, assert_ok

ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
LOCKED_MESSAGE = "Too many failed log-in attempts"
THROTTLE_MESSAGE = "Too many failed API-key attempts from this address; try again in"


def log_in(username: str, password: str, ip: str = ATTACKER, path: str = "/accounts/login/") -> Any:
    """One log-in form post from `ip`, in a fresh client (no cookies shared between posts)."""
    client = Client(REMOTE_ADDR=ip)
    data = {"username": username, "password": password}
    if path.startswith("/admin/"):
        data["next"] = "/admin/"
    response = client.post(path, data)
    response.client = client
    return response


def logged_in(response: Any) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


# --- log-in lockouts ------------------------------------------------------------------------------


def test_forty_wrong_logins_then_the_right_password_is_refused_with_the_lockout_message(
    tenant: User, settings: Any
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    answers = [log_in("alice", f"guess-{n}") for n in range(40)]

    # Below the limit: the ordinary form error; from the limit on: the lockout page.
    assert all(r.status_code == 200 for r in answers[: limit - 1])
    assert b"Please enter a correct username and password" in answers[0].content
    assert all(r.status_code == 429 for r in answers[limit - 1 :])

    response = log_in("alice", "alice-password-1")
    assert not logged_in(response)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_MESSAGE in page
    assert "Try again in" in page and "minutes" in page
    assert "An administrator can unlock" in page
    # It is the log-in page, form included, not a bare error page.
    assert 'name="username"' in page and 'name="password"' in page


def test_another_address_and_another_account_are_unaffected(
    tenant: User, other_tenant: User
) -> None:
    for n in range(40):
        log_in("alice", f"guess-{n}", ip=ATTACKER)

    # Charlie, from another address, logs in.
    assert logged_in(log_in("charlie", "charlie-password-1", ip=NEIGHBOUR))
    # The attacked account is locked from every address; the attacking address for every account.
    assert log_in("alice", "alice-password-1", ip=NEIGHBOUR).status_code == 429
    assert log_in("charlie", "charlie-password-1", ip=ATTACKER).status_code == 429


def test_a_few_typos_do_not_lock_anyone_out(tenant: User, settings: Any) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("alice", f"typo-{n}")
    assert logged_in(log_in("alice", "alice-password-1"))


def test_the_lockout_ends_after_the_cool_off(tenant: User, settings: Any) -> None:
    from axes.models import AccessAttempt

    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("alice", f"guess-{n}")
    assert log_in("alice", "alice-password-1").status_code == 429

    # Age the recorded failures past the cool-off instead of waiting for it.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )
    assert logged_in(log_in("alice", "alice-password-1"))


def test_admin_log_in_is_covered_too(tenant: User, settings: Any) -> None:
    tenant.is_staff = True
    tenant.save()
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("alice", f"guess-{n}", path="/admin/login/")

    response = log_in("alice", "alice-password-1", path="/admin/login/")
    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert not logged_in(response)


def test_an_administrator_unlocks_the_account_in_the_admin(tenant: User, settings: Any) -> None:
    from axes.models import AccessAttempt

    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("alice", f"guess-{n}")
    assert log_in("alice", "alice-password-1").status_code == 429

    admin = User.objects.create_superuser("root", "root@example.com", "root-password-1")
    staff = Client()
    staff.force_login(admin)
    changelist = staff.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200 and "alice" in changelist.content.decode()
    response = staff.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert logged_in(log_in("alice", "alice-password-1"))


def test_forwarded_for_is_ignored_unless_behind_a_trusted_proxy(
    tenant: User, other_tenant: User, settings: Any
) -> None:
    def attempt(username: str, password: str, forwarded: str) -> Any:
        client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        response = client.post("/accounts/login/", {"username": username, "password": password})
        response.client = client
        return response

    # Not behind a proxy: a forged header changes nothing, the socket's address is locked.
    settings.RAGSITE_BEHIND_TLS_PROXY = False
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("nobody", f"guess-{n}", forwarded=f"192.0.2.{n}")
    assert attempt("charlie", "charlie-password-1", forwarded="192.0.2.200").status_code == 429

    # Behind the proxy, the address it appended (the last one) is the client's.
    settings.RAGSITE_BEHIND_TLS_PROXY = True
    assert logged_in(attempt("alice", "alice-password-1", forwarded="1.2.3.4, 192.0.2.201"))
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("someone", f"guess-{n}", forwarded=f"9.9.9.{n}, 192.0.2.202")
    assert attempt("alice", "alice-password-1", forwarded="192.0.2.202").status_code == 429


# --- API keys ---------------------------------------------------------------------------------------


def wrong_key(client: Client) -> Any:
    return client.get("/api/v1/datasets", headers={"Authorization": "Bearer ragflow-wrong"})


def test_a_hundred_wrong_keys_are_throttled_without_a_key_lookup(
    db: None, api_key: str, settings: Any
) -> None:
    limit = settings.RAGSITE_API_KEY_FAILURE_LIMIT
    client = Client(REMOTE_ADDR=ATTACKER)
    messages = []
    for _ in range(100):
        with CaptureQueriesContext(connection) as queries:
            response = wrong_key(client)
        looked_up = any("accounts_apikey" in q["sql"] for q in queries.captured_queries)
        messages.append((assert_error(response, RetCode.AUTHENTICATION_ERROR), looked_up))

    assert messages[:limit] == [("Authentication error: API key is invalid!", True)] * limit
    for message, looked_up in messages[limit:]:
        assert message.startswith(THROTTLE_MESSAGE) and message.endswith(" seconds.")
        assert not looked_up
    seconds = int(messages[-1][0].removeprefix(THROTTLE_MESSAGE).split()[0])
    assert 1 <= seconds <= settings.RAGSITE_API_KEY_FAILURE_WINDOW_SECONDS

    # The throttled address is refused even with a valid key; another address is not.
    good = {"Authorization": f"Bearer {api_key}"}
    response = client.get("/api/v1/datasets", headers=good)
    assert assert_error(response, RetCode.AUTHENTICATION_ERROR).startswith(THROTTLE_MESSAGE)
    assert assert_ok(Client(REMOTE_ADDR=NEIGHBOUR).get("/api/v1/datasets", headers=good)) == []
    assert_error(wrong_key(Client(REMOTE_ADDR=NEIGHBOUR)), RetCode.AUTHENTICATION_ERROR, "invalid")


def test_valid_keys_and_missing_headers_do_not_count(db: None, api_key: str, settings: Any) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.RAGSITE_API_KEY_FAILURE_LIMIT * 2):
        assert_ok(client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {api_key}"}))
        client.get("/api/v1/datasets")
    assert_error(wrong_key(client), RetCode.AUTHENTICATION_ERROR, "API key is invalid")


def test_streaming_and_openai_routes_share_the_throttle(db: None, settings: Any) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.RAGSITE_API_KEY_FAILURE_LIMIT):
        wrong_key(client)
    bad = {"Authorization": "Bearer ragflow-wrong"}
    body = {"question": "hi", "stream": False}
    response = client.post(
        "/api/v1/chats/abc/completions", body, content_type="application/json", headers=bad
    )
    assert_error(response, RetCode.AUTHENTICATION_ERROR, THROTTLE_MESSAGE)
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    for path in (
        "/api/v1/chats_openai/abc/chat/completions",
        "/api/v1/agents_openai/abc/chat/completions",
    ):
        response = client.post(path, body, content_type="application/json", headers=bad)
        assert_error(response, RetCode.AUTHENTICATION_ERROR, THROTTLE_MESSAGE)


def test_an_unreachable_cache_does_not_take_the_api_down(
    db: None, api_key: str, settings: Any
) -> None:
    from tests.conftest import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "ragsite.cache.SharedPoolRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/2",  # nothing listens there
        }
    }
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.RAGSITE_API_KEY_FAILURE_LIMIT + 1):
        assert_error(wrong_key(client), RetCode.AUTHENTICATION_ERROR, "API key is invalid")
    assert_ok(client.get("/api/v1/datasets", headers={"Authorization": f"Bearer {api_key}"}))


@pytest.mark.slow
def test_live_server_counts_failures_in_the_shared_valkey_cache(
    transactional_db: None, live_server_url: str, valkey_url: str, api_key: str, settings: Any
) -> None:
    """Through Daphne, with the counters in the session's Valkey (what every process shares)."""
    import httpx
    import redis

    limit = settings.RAGSITE_API_KEY_FAILURE_LIMIT
    # Loopback has all of 127/8: a fresh source address per run keeps the session's other live
    # tests (all from 127.0.0.1) out of this test's counters.
    attacker = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"

    def client(source: str) -> httpx.Client:
        return httpx.Client(
            base_url=live_server_url,
            transport=httpx.HTTPTransport(local_address=source),
            timeout=60,  # a busy box, and a server still loading its model
        )

    cache_db = redis.Redis.from_url(redis_url_with_db(valkey_url, 2))
    keys_before = set(cache_db.keys())
    with client(attacker) as http:
        wrong = {"Authorization": "Bearer ragflow-wrong"}
        for _ in range(limit):
            body = http.get("/api/v1/datasets", headers=wrong).json()
            assert body["message"] == "Authentication error: API key is invalid!"
        body = http.get("/api/v1/datasets", headers={"Authorization": f"Bearer {api_key}"}).json()
        assert body["code"] == RetCode.AUTHENTICATION_ERROR
        assert body["message"].startswith(THROTTLE_MESSAGE)
    assert set(cache_db.keys()) - keys_before, "the counters live in the Valkey cache (db 2)"

    with client("127.0.0.1") as http:  # what the other live tests use
        body = http.get("/api/v1/datasets", headers={"Authorization": f"Bearer {api_key}"}).json()
        assert body["code"] == 0, body
