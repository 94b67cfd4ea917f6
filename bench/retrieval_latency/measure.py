"""Measurements: concurrent HTTP load, the SQL legs in-process, HNSW recall, CPU accounting."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import requests

# --- latency statistics --------------------------------------------------------------------------


@dataclass
class Latencies:
    name: str
    ms: list[float]
    wall_s: float = 0.0
    errors: int = 0
    cpu: dict[str, Any] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.ms, q)) if self.ms else float("nan")

    @property
    def rps(self) -> float:
        return len(self.ms) / self.wall_s if self.wall_s else float("nan")

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.ms),
            "errors": self.errors,
            "p50_ms": round(self.pct(50), 1),
            "p95_ms": round(self.pct(95), 1),
            "p99_ms": round(self.pct(99), 1),
            "mean_ms": round(float(np.mean(self.ms)), 1) if self.ms else None,
            "max_ms": round(max(self.ms), 1) if self.ms else None,
            "req_per_s": round(self.rps, 2),
            "wall_s": round(self.wall_s, 2),
            "cpu": self.cpu,
        }


# --- CPU accounting ------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds over a block: the web process (Daphne), PostgreSQL (postmaster and its
    backends, reaped ones included), the whole stack with this process, and the machine: the
    machine minus the stack is other load on the box."""

    def __init__(self, launcher_pid: int, pgdata: Path) -> None:
        self.launcher_pid = launcher_pid
        self.pgdata = pgdata

    @staticmethod
    def _tree(root: psutil.Process) -> dict[int, psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return {p.pid: p for p in [root, *root.children(recursive=True)]}
        return {}

    @staticmethod
    def _cpu(procs: dict[int, psutil.Process]) -> float:
        total = 0.0
        for proc in procs.values():
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def sample(self) -> dict[str, float]:
        launcher = self._tree(psutil.Process(self.launcher_pid))
        web = {k: p for k, p in launcher.items() if _is_web(p)}
        postgres: dict[int, psutil.Process] = {}
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            postgres = self._tree(psutil.Process(pid))
        t = psutil.cpu_times()
        return {
            "web": self._cpu(web),
            "postgres": self._cpu(postgres),
            "stack": self._cpu(launcher | postgres | self._tree(psutil.Process())),
            "machine": float(t.user + t.nice + t.system + t.irq + t.softirq),
        }

    @contextlib.contextmanager
    def measure(self, into: dict[str, Any]) -> Iterator[None]:
        before, started = self.sample(), time.monotonic()
        try:
            yield
        finally:
            after = self.sample()
            used = {k: after[k] - before[k] for k in before}
            into["web_cpu_s"] = round(used["web"], 1)
            into["postgres_cpu_s"] = round(used["postgres"], 1)
            into["stack_cpu_s"] = round(used["stack"], 1)
            into["other_cpu_s"] = round(max(0.0, used["machine"] - used["stack"]), 1)
            into["capacity_cpu_s"] = round((time.monotonic() - started) * (os.cpu_count() or 1), 1)


def _is_web(proc: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "daphne" in " ".join(proc.cmdline())
    return False


# --- HTTP load -----------------------------------------------------------------------------------


def retrieval_body(question: str, dataset_id: str) -> dict[str, Any]:
    return {
        "question": question,
        "dataset_ids": [dataset_id],
        "similarity_threshold": 0.2,
        "vector_similarity_weight": 0.3,
        "page_size": 10,
    }


def http_load(
    name: str, base_url: str, key: str, dataset_id: str, questions: Sequence[str], clients: int
) -> Latencies:
    """`clients` threads, one requests.Session each, share the questions until none are left."""
    result = Latencies(name, [])
    lock = threading.Lock()
    pending = list(reversed(questions))
    url = f"{base_url}/api/v1/retrieval"
    hits: list[int] = []

    def client() -> None:
        session = requests.Session()
        session.trust_env = False
        session.headers["Authorization"] = f"Bearer {key}"
        while True:
            with lock:
                if not pending:
                    return
                question = pending.pop()
            started = time.perf_counter()
            try:
                response = session.post(url, json=retrieval_body(question, dataset_id), timeout=120)
                elapsed = (time.perf_counter() - started) * 1000
                body = response.json()
                ok = response.status_code == 200 and body.get("code") == 0
            except (requests.RequestException, ValueError):
                elapsed, ok, body = (time.perf_counter() - started) * 1000, False, {}
            with lock:
                if ok:
                    result.ms.append(elapsed)
                    hits.append(len(body["data"]["chunks"]))
                else:
                    result.errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - started
    result.cpu["mean_hits"] = round(float(np.mean(hits)), 2) if hits else 0.0
    return result


# --- in-process (Django) -------------------------------------------------------------------------


def setup_django(database_url: str, var_dir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "ragsite.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["RAGSITE_VAR_DIR"] = str(var_dir)
    import django

    django.setup()


@dataclass
class StageTimes:
    """Per question, seconds spent in each step of retrieval.retrieve()."""

    mode: str
    stages: dict[str, list[float]] = field(default_factory=dict)
    # (keyword leg ms, chunks matching its tsquery), when counted
    keyword_matches: list[tuple[float, int]] = field(default_factory=list)

    def add(self, stage: str, seconds: float) -> None:
        self.stages.setdefault(stage, []).append(seconds * 1000)

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            stage: {
                "p50_ms": round(float(np.percentile(ms, 50)), 2),
                "p95_ms": round(float(np.percentile(ms, 95)), 2),
                "mean_ms": round(float(np.mean(ms)), 2),
            }
            for stage, ms in self.stages.items()
        }

    def keyword_buckets(self) -> list[dict[str, Any]]:
        """Keyword-leg time by how many chunks its tsquery matches."""
        out = []
        for low, high in ((0, 1000), (1000, 5000), (5000, 15000), (15000, 10**9)):
            ms = [t for t, n in self.keyword_matches if low <= n < high]
            if ms:
                out.append({
                    "matching_chunks": f"{low}–{high if high < 10**9 else '…'}",
                    "questions": len(ms),
                    "p50_ms": round(float(np.percentile(ms, 50)), 1),
                    "p95_ms": round(float(np.percentile(ms, 95)), 1),
                })  # fmt: skip
        return out


# retrieve()'s steps that are module functions; older versions had separate legs and a row
# fetch, the current one fetches both legs and their rows in one statement (candidate_rows).
_STAGES = (
    "document_frequencies",
    "keyword_candidates",
    "vector_candidates",
    "_rows",
    "candidate_rows",
)


def _count_matches(scope: Any, terms: Sequence[str]) -> int:
    """How many chunks in scope match the keyword leg's tsquery (what it has to rank)."""
    from django.db import connection

    from knowledge import retrieval

    if not terms:
        return 0
    # The app's own builder (its name has changed once); the same rule otherwise.
    build = getattr(retrieval, "tsquery_for", None) or getattr(retrieval, "_tsquery", None)
    query = (
        build(terms)
        if build
        else " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM knowledge_chunkterms c, to_tsquery('simple', %s) q "
            "WHERE c.dataset_id = ANY(%s) AND c.available AND c.search_vector @@ q",
            [query, list(scope.dataset_ids)],
        )
        return int(cursor.fetchone()[0])


@contextlib.contextmanager
def _timed_stages(times: StageTimes, exact: bool, count: bool = False) -> Iterator[None]:
    """Wrap retrieve()'s steps (module globals) with timers; vector search exact if asked;
    with `count`, also how many chunks the keyword leg's query matched (counted untimed)."""
    from knowledge import retrieval

    originals = {name: getattr(retrieval, name) for name in _STAGES if hasattr(retrieval, name)}

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if name == "vector_candidates":
                kwargs["exact"] = exact
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                times.add(name, elapsed)
                if count and name == "keyword_candidates":
                    matches = _count_matches(args[0], args[1])
                    times.keyword_matches.append((elapsed * 1000, matches))

        return timed

    for name, fn in originals.items():
        setattr(retrieval, name, wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(retrieval, name, fn)


def stage_breakdown(
    dataset_id: str,
    questions: Sequence[str],
    vectors: np.ndarray,
    total_chunks: int,
    *,
    exact: bool,
    count: bool = False,
) -> StageTimes:
    """retrieve() in this process, one question at a time, as the API calls it. With `exact`,
    each call runs in a transaction with index scans off: the vector leg then computes every
    chunk's distance (the keyword leg's GIN lookup is a bitmap scan and stays)."""
    from django.db import connection, transaction

    from knowledge import retrieval

    times = StageTimes("exact" if exact else "hnsw")
    with _timed_stages(times, exact, count):
        for question, vector in zip(questions, vectors, strict=True):
            query = retrieval.Query(
                question=question,
                scope=retrieval.Scope([dataset_id]),
                embedding=[float(x) for x in vector],
                page_size=10,
            )
            with transaction.atomic():
                if exact:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL enable_indexscan = off")
                started = time.perf_counter()
                retrieval.retrieve(query, total_chunks=total_chunks)
                times.add("retrieve (total)", time.perf_counter() - started)
    return times


def embed_query_times(questions: Sequence[str]) -> list[float]:
    """ms per question for the web process's query embedding (same function, 1 torch thread)."""
    from knowledge.embeddings import MINILM_ID, embed_query

    embed_query(MINILM_ID, "warm up")
    out = []
    for question in questions:
        started = time.perf_counter()
        embed_query(MINILM_ID, question)
        out.append((time.perf_counter() - started) * 1000)
    return out


@dataclass
class Recall:
    recall_at_10: float
    p50_ms: float  # of the vector query alone, at this ef_search


def _top10(scores: dict[str, float]) -> set[str]:
    return {k for k, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:10]}


def exact_top10(dataset_id: str, vectors: np.ndarray) -> list[set[str]]:
    """The true 10 nearest chunks of each vector (index scans off)."""
    from knowledge import retrieval

    scope = retrieval.Scope([dataset_id])
    return [
        _top10(retrieval.vector_candidates(scope, [float(x) for x in v], 10, exact=True))
        for v in vectors
    ]


def recall_at_10(
    dataset_id: str,
    vectors: np.ndarray,
    ef_values: Sequence[int],
    limits: Sequence[int],
    truth: list[set[str]] | None = None,
) -> dict[int, dict[int, Recall]]:
    """{limit: {ef_search: mean |top-10 HNSW ∩ top-10 exact| / 10}}, EF_SEARCH patched in memory.

    `limit` is the LIMIT of the vector query; the app sets ef_search = max(EF_SEARCH, limit).
    """
    from knowledge import retrieval

    scope = retrieval.Scope([dataset_id])
    embeddings = [[float(x) for x in v] for v in vectors]
    truth = truth if truth is not None else exact_top10(dataset_id, vectors)
    saved = retrieval.EF_SEARCH
    out: dict[int, dict[int, Recall]] = {}
    try:
        for limit in limits:
            for ef in ef_values:
                retrieval.EF_SEARCH = ef
                hits: list[float] = []
                ms: list[float] = []
                for embedding, expected in zip(embeddings, truth, strict=True):
                    started = time.perf_counter()
                    found = _top10(retrieval.vector_candidates(scope, embedding, limit))
                    ms.append((time.perf_counter() - started) * 1000)
                    hits.append(len(found & expected) / 10)
                out.setdefault(limit, {})[ef] = Recall(
                    round(float(np.mean(hits)), 4), round(float(np.percentile(ms, 50)), 2)
                )
    finally:
        retrieval.EF_SEARCH = saved
    return out


_LEADING_SET = re.compile(r"\s*(SET [^;]+);", re.IGNORECASE)
_LONG_LITERAL = re.compile(r"'([\[{])([^'\]}]{60})[^']*([\]}])'")


def _shorten(line: str) -> str:
    """Long vector and id-array literals cut to their first 60 characters."""
    return _LONG_LITERAL.sub(lambda m: f"'{m[1]}{m[2]}…{m[3]}'", line)


def explain_retrieve(
    dataset_id: str, question: str, vector: np.ndarray, total_chunks: int, *, exact: bool
) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT that one retrieve() call runs (each with the
    SET LOCALs that preceded it, in its own transaction, as the app runs them)."""
    from django.db import connection, transaction

    from knowledge import retrieval

    statements: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, ctx)

    query = retrieval.Query(
        question=question,
        scope=retrieval.Scope([dataset_id]),
        embedding=[float(x) for x in vector],
        page_size=10,
    )
    times = StageTimes("explain")
    with connection.execute_wrapper(record), _timed_stages(times, exact):
        retrieval.retrieve(query, total_chunks=total_chunks)
    out: list[str] = []
    settings: list[str] = []
    # candidate_rows sends its SET LOCALs and its SELECT as one message: split them.
    split: list[tuple[str, Any]] = []
    for sql, params in statements:
        while (m := _LEADING_SET.match(sql)) is not None:
            split.append((m[1], None))
            sql = sql[m.end() :]
        split.append((sql, params))
    for sql, params in split:
        head = sql.lstrip().upper()
        if head.startswith("SET"):
            settings.append(sql.strip())
            continue
        if not head.startswith("SELECT"):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(setting)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(_shorten(row[0]) for row in cursor.fetchall())
        header = "".join(f"-- {s}\n" for s in settings)
        out.append(header + " ".join(sql.split())[:200] + " …\n" + plan)
        settings = []
    return "\n\n".join(out)


def view_times(key: str, dataset_id: str, questions: Sequence[str]) -> dict[str, Any]:
    """The whole POST /api/v1/retrieval in this process (Django's test client: auth, checks,
    query embedding, retrieve(), serialisation, rendering), on one kept connection, and where
    its CPU goes (cProfile, by function, cumulative)."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client

    connection.settings_dict["CONN_MAX_AGE"] = None  # one connection: no connect cost here
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")

    def post(question: str) -> None:
        response = client.post(
            "/api/v1/retrieval",
            retrieval_body(question, dataset_id),
            content_type="application/json",
        )
        if response.status_code != 200 or response.json().get("code") != 0:
            raise RuntimeError(f"in-process retrieval failed: {response.content[:300]!r}")

    post("warm up")
    ms = []
    for question in questions:
        started = time.perf_counter()
        post(question)
        ms.append((time.perf_counter() - started) * 1000)
    profile = cProfile.Profile()
    profile.enable()
    for question in questions[:50]:
        post(question)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(30)
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.close()
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(np.mean(ms)), 2),
        "profile_50_requests": text.getvalue(),
    }
