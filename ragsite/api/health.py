"""GET /api/v1/system/healthz (and the older /v1/system/healthz): is every part ragsite needs
working right now? No authentication, as in RAGFlow (contract v0.27 §3.1).

Each check does the real thing, briefly: the database answers a query, the broker (Valkey)
answers PING, pgvector computes a distance, the default storage writes, reads back and deletes
a small object, and a Celery worker answers a ping. The body names each part "ok" or "nok"
(RAGFlow's keys: `db`, `redis`, `doc_engine`, `storage`; ragsite adds `worker`), with `status`
and, when something failed, `_meta` saying which check failed and how long it took. HTTP 200
when all are ok, 500 otherwise, so load balancers and container probes can use it as is.

Failure texts are fixed phrases: this route answers anyone, so exception text (paths,
addresses, SQL) goes to the log under a request id instead.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from ragsite.api.envelope import envelope_response, ok

logger = logging.getLogger("ragsite.health")

# Each check gives up after about this long, so the probe answers within a few seconds.
CHECK_TIMEOUT_SECONDS = 1.0


class CheckFailed(Exception):
    """A check's failure, in a phrase safe to show anyone."""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise CheckFailed("the database answered SELECT 1 wrongly")


def check_doc_engine() -> None:
    """ragsite's document engine is PostgreSQL with pgvector: it must compute a distance."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT '[1,2]'::vector <-> '[1,3]'::vector")
        row = cursor.fetchone()
    if row is None or abs(float(row[0]) - 1.0) > 1e-6:
        raise CheckFailed("pgvector computed a wrong distance")


def _broker_url() -> str:
    return str(settings.CELERY_BROKER_URL)


def check_broker() -> None:
    url = _broker_url()
    if url.split(":", 1)[0] in ("redis", "rediss", "valkey", "valkeys"):
        import redis

        client = redis.Redis.from_url(
            url.replace("valkey", "redis", 1),
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
            socket_timeout=CHECK_TIMEOUT_SECONDS,
        )
        try:
            if not client.ping():
                raise CheckFailed("the broker did not answer PING")
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)


def check_storage() -> None:
    payload = uuid.uuid4().hex.encode()
    key = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(payload))
    try:
        with default_storage.open(key, "rb") as handle:
            if handle.read() != payload:
                raise CheckFailed("storage returned other bytes than were written")
    finally:
        default_storage.delete(key)


def check_worker() -> None:
    """A Celery worker answers a ping (with tasks run in-process, none is needed).

    The ping goes through a short-lived app configured like ragsite's, so a broker that
    changed or died since ragsite's app first connected cannot hold the probe in its retries.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from celery import Celery

    probe = Celery("ragsite-healthz", set_as_current=False)  # tasks keep using ragsite's app
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    probe.conf.broker_url = _broker_url()
    try:
        with probe.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
            replies = probe.control.ping(timeout=CHECK_TIMEOUT_SECONDS, connection=conn)
    finally:
        probe.close()
    if not replies:
        raise CheckFailed(f"no Celery worker answered within {CHECK_TIMEOUT_SECONDS:g} s")


# RAGFlow's keys first; what each failure is called when its exception says nothing safe.
CHECKS: dict[str, tuple[Callable[[], None], str]] = {
    "db": (check_database, "the database is unreachable"),
    "redis": (check_broker, "the broker (Valkey) is unreachable"),
    "doc_engine": (check_doc_engine, "the vector store (pgvector) is not working"),
    "storage": (check_storage, "storage could not write, read and delete an object"),
    "worker": (check_worker, "no Celery worker could be reached"),
}


def run_checks() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Each part's "ok"/"nok", and for failed parts how long the check took and why."""
    results: dict[str, str] = {}
    meta: dict[str, dict[str, str]] = {}
    for name, (check, phrase) in CHECKS.items():
        if name == "worker" and results.get("redis") == "nok":
            results[name] = "nok"
            meta[name] = {"elapsed": "0.0", "error": "the broker is unreachable"}
            continue
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure is this part being unhealthy
            elapsed = (time.perf_counter() - started) * 1000
            request_id = uuid.uuid4().hex[:12]
            logger.warning("healthz: %s failed [request %s]: %r", name, request_id, exc)
            error = str(exc) if isinstance(exc, CheckFailed) else phrase
            results[name] = "nok"
            meta[name] = {"elapsed": f"{elapsed:.1f}", "error": f"{error} (request {request_id})"}
        else:
            results[name] = "ok"
    return results, meta


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    results, meta = run_checks()
    healthy = not meta
    body: dict[str, object] = {**results, "status": "ok" if healthy else "nok"}
    if meta:
        body["_meta"] = meta
    return JsonResponse(body, status=200 if healthy else 500)


@require_safe
def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong", content_type="text/plain")


@require_safe
def version(request: HttpRequest) -> HttpResponse:
    try:
        number = importlib.metadata.version("ragsite")
    except importlib.metadata.PackageNotFoundError:
        number = "unknown"
    return envelope_response(ok(number))
