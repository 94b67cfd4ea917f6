"""Faults on the scale-out topology: a web process, a worker, PostgreSQL and Redis go away
while clients use the site. Bounded in time; loopback only. Run with `make test-cluster`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psutil
import pytest

from ragsite.cluster.client import Answer, Api, NotEnvelope, Stream
from ragsite.cluster.topology import Cluster, wait_for

pytestmark = pytest.mark.cluster(fault=True)

# A streamed answer of the small test corpus takes seconds; longer than this is a hang.
STREAM_TIMEOUT = 60.0


@dataclass
class Load:
    """Clients calling `request` in a loop until stopped; every outcome is recorded."""

    request: Callable[[Api], Answer]
    api_url: str
    key: str
    clients: int = 6
    timeout: float = 30.0
    outcomes: list[tuple[float, str]] = field(default_factory=list)  # (time, "ok" | problem)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _client(self) -> None:
        api = Api(self.api_url, self.key, timeout=self.timeout)
        try:
            while not self._stop.is_set():
                try:
                    answer = self.request(api)
                    outcome = "ok" if answer.code == 0 else f"envelope {answer.code}"
                except NotEnvelope as exc:
                    outcome = f"NOT ENVELOPE {exc}"
                except httpx.TimeoutException as exc:
                    outcome = f"HANG {exc!r}"
                except httpx.HTTPError as exc:
                    outcome = f"transport {exc!r}"
                self.outcomes.append((time.monotonic(), outcome))
        finally:
            api.close()

    def __enter__(self) -> Load:
        self._threads = [threading.Thread(target=self._client) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def between(self, start: float, end: float) -> list[str]:
        return [o for t, o in self.outcomes if start <= t < end]


def test_killing_one_web_process_under_load_fails_at_most_the_requests_in_flight(
    cluster: Cluster, cluster_api: Api, cluster_key: str
) -> None:
    load = Load(lambda api: api.call("GET", "/datasets"), cluster.url, cluster_key, clients=8)
    with load:
        time.sleep(3)
        victim = cluster.webs[0]
        killed_at = time.monotonic()
        victim.kill(signal.SIGKILL)
        time.sleep(6)
        ended = time.monotonic()
    before = load.between(0, killed_at)
    after = load.between(killed_at, ended)
    assert before and all(o == "ok" for o in before), set(before)
    failures = [o for o in after if o != "ok"]
    # At most one request per client can have been inside the killed process.
    assert len(failures) <= load.clients, failures
    assert not [o for o in failures if o.startswith(("NOT ENVELOPE", "HANG"))], failures
    settled = load.between(killed_at + 2, ended)
    assert settled and all(o == "ok" for o in settled), set(settled)
    # The site never needed the dead process back; bring it back for the next tests.
    victim.start()
    wait_for(lambda: cluster.web_ready(0), 120, "the restarted web process")


def _pool_children(cluster: Cluster) -> list[psutil.Process]:
    return [c for w in cluster.celery if w.alive() for c in psutil.Process(w.pid).children()]


def test_sigkill_of_the_worker_process_mid_parse_still_finishes_the_document_exactly(
    cluster: Cluster, cluster_api: Api
) -> None:
    paragraphs = [
        f"Paragraph {i}: the kubelet on node {i} starts containers, reports status and "
        f"evicts pods when node {i} runs short of memory. " * 6
        for i in range(400)
    ]
    body = "\n\n".join(paragraphs).encode()
    # The same file parsed undisturbed gives the expected chunk count.
    control = cluster_api.create_dataset("kill-control")
    control_doc = cluster_api.upload(control, "big.txt", body)
    cluster_api.parse(control, [control_doc])
    expected = cluster_api.wait_parsed(control, control_doc, timeout=300)
    assert expected["run"] == "DONE" and expected["chunk_count"] > 10, expected

    dataset = cluster_api.create_dataset("kill-worker")
    document = cluster_api.upload(dataset, "big.txt", body)
    cluster_api.parse(dataset, [document])
    deadline = time.monotonic() + 120
    busy: psutil.Process | None = None
    while busy is None and time.monotonic() < deadline:
        doc = cluster_api.document(dataset, document)
        if doc["run"] == "RUNNING" and 0 < float(doc.get("progress") or 0) < 1:
            children = _pool_children(cluster)
            for child in children:
                child.cpu_percent(None)
            time.sleep(0.3)
            busy = max(children, key=lambda c: c.cpu_percent(None), default=None)
        else:
            time.sleep(0.1)
    assert busy is not None, "the parse never showed progress"
    busy.send_signal(signal.SIGKILL)
    doc = cluster_api.wait_parsed(dataset, document, timeout=300)
    assert doc["run"] == "DONE", doc
    chunk_ids = cluster_api.chunk_ids(dataset, document)
    assert doc["chunk_count"] == expected["chunk_count"] == len(chunk_ids) == len(set(chunk_ids))


def test_postgresql_down_for_20_seconds_answers_envelopes_then_recovers(
    cluster: Cluster, cluster_api: Api, cluster_key: str
) -> None:
    dataset = cluster_api.create_dataset("pg-restart")
    load = Load(lambda api: api.call("GET", "/datasets"), cluster.url, cluster_key, clients=4)
    with load:
        time.sleep(2)
        down_at = time.monotonic()
        cluster.stop_postgres()
        time.sleep(20)
        cluster.start_postgres()
        up_at = time.monotonic()
        time.sleep(15)
        ended = time.monotonic()
    during = load.between(down_at + 1, up_at)
    assert during, "no request finished while PostgreSQL was down"
    bad = [o for o in load.outcomes if o[1].startswith(("NOT ENVELOPE", "HANG"))]
    assert not bad, bad[:5]
    assert any(o.startswith("envelope") for o in during), set(during)
    recovered = load.between(up_at + 10, ended)
    assert recovered and all(o == "ok" for o in recovered), set(recovered)
    assert cluster_api.ok("GET", "/datasets", params={"id": dataset})


def _assert_clear_stream(stream: Stream) -> None:
    """An event stream of envelopes that ends with RAGFlow's last event; an event that is an
    error says what went wrong (its message and its answer text)."""
    assert stream.status == 200 and stream.content_type.startswith("text/event-stream"), stream
    assert stream.terminated, stream.events[-3:]
    for event in stream.errors:
        assert event.get("message"), event
        assert str(event["data"]["answer"]).startswith("**ERROR**"), event


def test_redis_restart_parsing_resumes_and_streaming_answers_throughout(
    cluster: Cluster, cluster_api: Api, cluster_key: str
) -> None:
    dataset = cluster_api.create_dataset("redis-restart")
    seed = cluster_api.upload(dataset, "seed.txt", b"The scheduler places pods onto nodes.\n")
    cluster_api.parse(dataset, [seed])
    assert cluster_api.wait_parsed(dataset, seed, timeout=180)["run"] == "DONE"
    chat = cluster_api.create_chat("redis-restart", [dataset])
    session = cluster_api.create_session(chat)
    question = "what places pods onto nodes"
    streaming = Api(cluster.url, cluster_key, timeout=STREAM_TIMEOUT)  # a stall is a failure

    cluster.stop_redis()
    try:
        assert not cluster.redis_running()
        document = cluster_api.upload(dataset, "queued.txt", b"The kubelet starts containers.\n")
        cluster_api.parse(dataset, [document])  # accepted: the parse waits in the database
        # Streaming needs PostgreSQL only (Redis holds the broker, the channel layer and the
        # API-key failure counters): the answer streams as usual, and ends.
        down = streaming.stream_completion(chat, question, session_id=session)
        _assert_clear_stream(down)
        assert not down.errors, down.errors
        assert "scheduler" in down.answer.lower(), down.events
        assert not cluster.redis_running()
    finally:
        cluster.start_redis()
        streaming.close()
    doc = cluster_api.wait_parsed(dataset, document, timeout=180)
    assert doc["run"] == "DONE" and doc["chunk_count"] == 1, doc

    after = cluster_api.stream_completion(chat, "what starts containers", session_id=session)
    _assert_clear_stream(after)
    assert not after.errors, after.errors
    assert "kubelet" in after.answer.lower(), after.events
