"""Orchestration: data → stack → load → HTTP runs (HNSW, exact, HNSW again) → in-process."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench.retrieval_latency import data as data_mod
from bench.retrieval_latency import loader, measure
from bench.retrieval_latency.stack import Api, Stack, running_stack

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-latest.json"
EXPLAIN_FILE = HERE / "explain-latest.txt"
PROFILE_FILE = HERE / "profile-latest.txt"
MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
# Issue 11: 4 clients p95 < 100 ms, 1 client p95 < 40 ms, at least 60 requests/s (4 clients).
TARGET_P95_MS = 100.0
TARGET_P95_ONE_CLIENT_MS = 40.0
TARGET_RPS = 60.0
RECALL_TARGET = 0.95
EF_VALUES = (40, 100, 200, 400, 800)
API_VECTOR_LIMIT = 64  # what retrieve() asks for with page_size 10 (MIN_VECTOR_CANDIDATES)


def log(message: str) -> None:
    print(message, flush=True)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count() or 0,
        "cpu": cpu,
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def create_documents(api: Api, dataset_id: str, data: data_mod.Data) -> list[tuple[str, str]]:
    """One text file per document holding its passages; [(id, name)] in passage order."""
    per_doc = len(data.passages) // data.docs
    files = [
        (
            f"report-{d + 1:03d}.txt",
            "\n\n".join(p.text for p in data.passages[d * per_doc : (d + 1) * per_doc]).encode(),
        )
        for d in range(data.docs)
    ]
    ids: dict[str, str] = {}
    for start in range(0, len(files), 10):
        for doc in api.upload(dataset_id, files[start : start + 10]):
            ids[str(doc["name"])] = str(doc["id"])
    return [(ids[name], name) for name, _ in files]


def verify(dataset_id: str, n: int) -> dict[str, Any]:
    """Check the load against the app's own code: counts, search_vector, term statistics."""
    from django.db.models import BooleanField, F, Func, OuterRef, Q, Subquery

    from knowledge.models import Chunk, ChunkTerms, Dataset, Document, TermStat
    from knowledge.services import chunk_store

    dataset = Dataset.objects.get(pk=dataset_id)
    chunks = Chunk.objects.filter(dataset_id=dataset_id)
    # The keyword leg reads the narrow rows (ChunkTerms): one per chunk, holding the vector the
    # chunk store's expression makes of the chunk's terms.
    narrow = ChunkTerms.objects.filter(dataset_id=dataset_id)
    expected = chunks.filter(pk=OuterRef("chunk_id")).values(v=chunk_store.chunk_search_vector())
    same: Func = Func(
        F("search_vector"),
        Subquery(expected),
        template="(%(expressions)s)",
        arg_joiner=" = ",
        output_field=BooleanField(),
    )
    wrong_vectors = narrow.annotate(same=same).filter(same=False).count()
    wrong_narrow = abs(narrow.count() - chunks.count()) + (
        narrow.filter(~Q(available=F("chunk__available"))).count()
    )
    sample = list(chunks.order_by("?")[:500])
    terms = set().union(*(chunk_store.chunk_terms(c) for c in sample))
    df = dict(
        TermStat.objects.filter(dataset_id=dataset_id, term__in=terms).values_list("term", "df")
    )
    probe_terms = sorted(terms)[:: max(1, len(terms) // 40)]
    recount = {
        term: chunks.filter(content_ltks__regex=rf"(^| ){re.escape(term)}( |$)").count()
        for term in probe_terms
    }
    docs = Document.objects.filter(dataset_id=dataset_id)
    result = {
        "chunks": chunks.count(),
        "dataset_chunk_count": dataset.chunk_count,
        "document_chunk_count_sum": sum(d.chunk_count for d in docs),
        "documents_done": sum(d.run == Document.Run.DONE for d in docs),
        "search_vector_mismatches": wrong_vectors,
        "chunkterms_mismatches": wrong_narrow,
        "termstat_rows": TermStat.objects.filter(dataset_id=dataset_id).count(),
        "termstat_df_mismatches": sum(df.get(t) != c for t, c in recount.items()),
        "termstat_df_checked": len(recount),
    }
    ok = (
        result["chunks"] == result["dataset_chunk_count"] == result["document_chunk_count_sum"] == n
        and not wrong_vectors
        and not wrong_narrow
        and not result["termstat_df_mismatches"]
    )
    result["ok"] = ok
    return result


def wait_for_endpoint(api: Api, dataset_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        live, said = api.retrieval_live(dataset_id)
        if live:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"POST /api/v1/retrieval not working after {timeout:.0f} s: {said}")
        log(f"  /api/v1/retrieval not ready ({said[:120]}); retrying in 30 s")
        time.sleep(30)


def run_http(
    name: str, stack: Stack, key: str, ds: str, qs: list[str], clients: int, meter: measure.CpuMeter
) -> measure.Latencies:
    cpu: dict[str, Any] = {}
    sessions = pg_sessions(stack.database_url)
    with meter.measure(cpu):
        result = measure.http_load(name, stack.base_url, key, ds, qs, clients)
    # New PostgreSQL connections per request (the app's DB_CONN_MAX_AGE decides).
    cpu["pg_sessions_per_request"] = round(
        (pg_sessions(stack.database_url) - sessions - 1) / max(len(qs), 1), 2
    )
    result.cpu |= cpu
    log(f"  {name}: p50 {result.pct(50):.0f} ms, p95 {result.pct(95):.0f} ms, "
        f"{result.rps:.1f} req/s, {result.errors} errors, other load {cpu['other_cpu_s']:.0f} "
        f"of {cpu['capacity_cpu_s']:.0f} CPU-s, {cpu['pg_sessions_per_request']} new PostgreSQL "
        "connections per request")  # fmt: skip
    return result


def pg_sessions(url: str) -> int:
    """Connections ever opened to the ragsite database (this one included)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0


def table(rows: list[measure.Latencies]) -> str:
    head = ("search", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "mean ms", "req/s",
            "web CPU ms/req", "PG CPU ms/req", "other load CPU-s")  # fmt: skip
    body = [
        (r.name, str(len(r.ms)), str(r.errors), f"{r.pct(50):.1f}", f"{r.pct(95):.1f}",
         f"{r.pct(99):.1f}", f"{sum(r.ms) / max(len(r.ms), 1):.1f}", f"{r.rps:.2f}",
         f"{1000 * r.cpu.get('web_cpu_s', 0) / max(len(r.ms), 1):.0f}",
         f"{1000 * r.cpu.get('postgres_cpu_s', 0) / max(len(r.ms), 1):.0f}",
         f"{r.cpu.get('other_cpu_s', 0):.0f} of {r.cpu.get('capacity_cpu_s', 0):.0f}")
        for r in rows
    ]  # fmt: skip
    return _grid(head, body)


def stage_table(breakdowns: list[measure.StageTimes], embed_ms: list[float]) -> str:
    import numpy as np

    head = ("step (1 client, in-process)", *(f"{b.mode} p50/p95 ms" for b in breakdowns))
    stages = list(breakdowns[0].stages)
    embed = f"{np.percentile(embed_ms, 50):.1f} / {np.percentile(embed_ms, 95):.1f}"
    body = [("query embedding (MiniLM, 1 thread)", *[embed] * len(breakdowns))]
    for stage in stages:
        cells = []
        for b in breakdowns:
            ms = b.stages.get(stage, [0.0])
            cells.append(f"{np.percentile(ms, 50):.1f} / {np.percentile(ms, 95):.1f}")
        body.append((stage, *cells))
    return _grid(head, body)


def _grid(head: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *map(line, body)])


@dataclass
class Outcome:
    """Everything one run measured."""

    args: argparse.Namespace
    info: dict[str, Any]
    data: data_mod.Data
    vector_stats: dict[str, float]
    checks: dict[str, Any]
    data_s: float
    upload_s: float
    load: loader.LoadTimes
    rebuild_s: float
    index_def: str
    http: list[measure.Latencies]  # HNSW, exact, HNSW again, HNSW 1 client
    embed_ms: list[float]
    stages: list[measure.StageTimes]  # HNSW, exact
    recall: dict[int, dict[int, measure.Recall]]  # {LIMIT: {ef_search: …}}
    explains: list[str]
    total_s: float = 0.0

    @property
    def hnsw_p95(self) -> list[float]:
        return [
            r.pct(95) for r in self.http if r.name.startswith("HNSW") and "1 client" not in r.name
        ]

    @property
    def one_client(self) -> measure.Latencies:
        return next(r for r in self.http if "1 client" in r.name)

    @property
    def hnsw_rps(self) -> list[float]:
        return [r.rps for r in self.http if r.name.startswith("HNSW") and "1 client" not in r.name]

    @property
    def target_met(self) -> bool:
        return (
            max(self.hnsw_p95) < TARGET_P95_MS
            and self.one_client.pct(95) < TARGET_P95_ONE_CLIENT_MS
            and min(self.hnsw_rps) >= TARGET_RPS
        )

    def ef_reaching_target(self) -> int | None:
        reached = [
            ef for ef, r in self.recall[API_VECTOR_LIMIT].items() if r.recall_at_10 >= RECALL_TARGET
        ]
        return min(reached) if reached else None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="POST /api/v1/retrieval latency at 100k chunks")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--embed-budget", type=float, default=25.0, help="minutes for real embeddings of all"
    )
    parser.add_argument("--wait-endpoint", type=float, default=3600.0, help="seconds")
    parser.add_argument(
        "--quick", action="store_true", help="HNSW runs only (no exact search, no rebuild)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="run the stack in DIR and leave it there; a later run with the same DIR and data "
        "reuses the loaded database (and applies new migrations) instead of loading again",
    )
    return parser.parse_args()


def run(args: argparse.Namespace) -> Outcome:
    began = time.monotonic()
    info = machine()
    log(f"== data: {args.chunks} passages in {args.docs} documents (cache: {data_mod.CACHE})")
    data = data_mod.build(
        args.chunks, args.docs, args.questions, args.warmup, args.embed_budget * 60
    )
    vstats = data_mod.vector_stats(data)
    log(f"vectors: {data.approach}\n  stats: {vstats}")
    data_s = time.monotonic() - began
    qs, qv, n = data.questions, data.question_vectors, args.chunks

    keep: Path | None = args.keep
    log(f"== starting ragsite (launcher) in {keep or 'a temp dir'}")
    with running_stack(keep) as stack:
        key = stack.create_api_key()
        api = Api(stack.base_url, key)
        state_file = keep / "bench-state.json" if keep else None
        state = json.loads(state_file.read_text()) if state_file and state_file.exists() else {}
        if state.get("data") == data.key:
            ds, upload_s, times = state["dataset"], 0.0, loader.LoadTimes(0.0, 0.0, 0.0, 0.0)
            with psycopg.connect(stack.database_url) as conn:
                index_def = loader.index_definition(conn)
            log(f"reusing the loaded dataset {ds} of {keep}")
        else:
            if state:
                raise RuntimeError(f"{keep} holds other data ({state}): use another directory")
            ds = api.create_dataset(f"latency-{n}", MINILM)
            started = time.monotonic()
            documents = create_documents(api, ds, data)
            upload_s = time.monotonic() - started
            log(f"uploaded {len(documents)} documents through the API in {upload_s:.1f} s; "
                "loading")  # fmt: skip
            times, index_def = loader.load(stack.database_url, ds, documents, data)
            log(f"loaded: prepare {times.prepare_s:.1f} s, COPY+INSERT+stats {times.copy_s:.1f} s, "
                f"HNSW build {times.index_s:.1f} s, VACUUM ANALYZE {times.vacuum_s:.1f} s")  # fmt: skip
            if state_file:
                state_file.write_text(json.dumps({"data": data.key, "dataset": ds}) + "\n")
        # The stack's Valkey too: the API-key throttle reads it on every request in-process.
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{stack.env['RAGSITE_VALKEY_PORT']}/0"
        measure.setup_django(stack.database_url, stack.var_dir)
        checks = verify(ds, n)
        log(f"verify: {checks}")
        if not checks["ok"]:
            raise RuntimeError(f"the load does not match what the app would store: {checks}")

        log("== waiting for POST /api/v1/retrieval")
        wait_for_endpoint(api, ds, args.wait_endpoint)
        meter = measure.CpuMeter(stack.proc.pid, stack.var_dir / "postgres")

        def http(name: str, clients: int) -> measure.Latencies:
            return run_http(name, stack, key, ds, qs, clients, meter)

        def warm_up() -> None:
            measure.http_load("warmup", stack.base_url, key, ds, data.warmup, args.clients)

        warm_up()
        hnsw = http("HNSW", args.clients)
        hnsw_one = http("HNSW, 1 client", 1)
        log("== in-process: steps of retrieve(), recall@10, EXPLAIN")
        embed_ms = measure.embed_query_times(qs)
        view = measure.view_times(key, ds, qs)
        log(f"  whole request in-process (test client, kept connection): p50 {view['p50_ms']} ms,"
            f" p95 {view['p95_ms']} ms; profile in {PROFILE_FILE.name}")  # fmt: skip
        PROFILE_FILE.write_text(view.pop("profile_50_requests"))
        info["in_process_request"] = view
        stages_hnsw = measure.stage_breakdown(ds, qs, qv, n, exact=False, count=True)
        recall = measure.recall_at_10(ds, qv, EF_VALUES, (10, API_VECTOR_LIMIT))
        explains = [
            f"### HNSW, keyword-style question: {qs[0]}",
            measure.explain_retrieve(ds, qs[0], qv[0], n, exact=False),
            f"### HNSW, paraphrase question: {qs[1]}",
            measure.explain_retrieve(ds, qs[1], qv[1], n, exact=False),
        ]
        stages_exact = measure.stage_breakdown(ds, qs, qv, n, exact=True)
        if args.quick:
            return Outcome(
                args=args,
                info=info | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
                data=data,
                vector_stats=vstats,
                checks=checks,
                data_s=data_s,
                upload_s=upload_s,
                load=times,
                rebuild_s=0.0,
                index_def=index_def,
                http=[hnsw, hnsw_one],
                embed_ms=embed_ms,
                stages=[stages_hnsw, stages_exact],
                recall=recall,
                explains=explains,
                total_s=time.monotonic() - began,
            )

        log("== exact search over HTTP: dropping the HNSW index for this run")
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            loader.drop_hnsw(conn)
        warm_up()
        exact = http("exact (no index)", args.clients)
        explains += [
            f"### no index, paraphrase question: {qs[1]}",
            measure.explain_retrieve(ds, qs[1], qv[1], n, exact=False),
        ]
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            rebuild_s = loader.build_hnsw(conn, index_def)
        log(f"  HNSW index rebuilt in {rebuild_s:.1f} s")
        warm_up()
        hnsw_again = http("HNSW (again)", args.clients)

    return Outcome(
        args=args,
        info=info | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        data=data,
        vector_stats=vstats,
        checks=checks,
        data_s=data_s,
        upload_s=upload_s,
        load=times,
        rebuild_s=rebuild_s,
        index_def=index_def,
        http=[hnsw, exact, hnsw_again, hnsw_one],
        embed_ms=embed_ms,
        stages=[stages_hnsw, stages_exact],
        recall=recall,
        explains=explains,
        total_s=time.monotonic() - began,
    )


def report(o: Outcome) -> None:
    args, info = o.args, o.info
    print()
    print(f"Retrieval latency, {info['date']}: {info['nproc']} CPUs ({info['cpu']}), "
          f"{info['ram_gib']} GiB RAM, Python {info['python']}; load average at start "
          f"{info['loadavg_at_start']}, at end {info['loadavg_at_end']}")  # fmt: skip
    print(f"{args.chunks} chunks in 1 dataset ({args.docs} documents); {len(o.data.questions)} "
          f"questions (half keyword-style, half paraphrases) after {len(o.data.warmup)} warm-up "
          f"ones; {args.clients} concurrent clients; page_size 10, vector weight 0.3, "
          "threshold 0.2")  # fmt: skip
    print(f"vectors: {o.data.approach}")
    print()
    print(table(o.http))
    print()
    print(stage_table(o.stages, o.embed_ms))
    print()
    print("keyword leg (HNSW pass) by how many chunks its tsquery matches (all are ts_rank-ed):")
    for bucket in o.stages[0].keyword_buckets():
        print(f"  {bucket['matching_chunks']:>12} chunks: {bucket['questions']:>3} questions, "
              f"p50 {bucket['p50_ms']:.0f} ms, p95 {bucket['p95_ms']:.0f} ms")  # fmt: skip
    print()
    print(f"HNSW recall@10 vs exact ({len(o.data.questions)} questions), by hnsw.ef_search "
          "(p50 of the vector query alone):")  # fmt: skip
    for ef in EF_VALUES:
        r10, api = o.recall[10][ef], o.recall[API_VECTOR_LIMIT][ef]
        print(f"  ef_search {ef:>3}: LIMIT 10 → {r10.recall_at_10:.3f} ({r10.p50_ms:.1f} ms);  "
              f"LIMIT {API_VECTOR_LIMIT} as the API asks → {api.recall_at_10:.3f} "
              f"({api.p50_ms:.1f} ms)")  # fmt: skip
    reached = o.ef_reaching_target()
    print(f"  the app uses ef_search = max(EF_SEARCH, LIMIT), EF_SEARCH = {_ef_search()}; "
          f"recall@10 >= {RECALL_TARGET} from ef_search "
          f"{reached if reached else f'> {EF_VALUES[-1]} (not reached)'}")  # fmt: skip
    print()
    print(f"load: data generation/cache {o.data_s:.0f} s, API upload {o.upload_s:.1f} s, "
          f"COPY+INSERT+stats {o.load.copy_s:.1f} s, HNSW build {o.load.index_s:.1f} s "
          f"(rebuild {o.rebuild_s:.1f} s), VACUUM ANALYZE {o.load.vacuum_s:.1f} s")  # fmt: skip
    p95 = " / ".join(f"{p:.0f}" for p in o.hnsw_p95)
    rps = " / ".join(f"{r:.1f}" for r in o.hnsw_rps)
    one = o.one_client.pct(95)
    print(f"targets (HNSW): {args.clients} clients p95 < {TARGET_P95_MS:.0f} ms: "
          f"{'met' if max(o.hnsw_p95) < TARGET_P95_MS else 'NOT met'} ({p95} ms); "
          f"1 client p95 < {TARGET_P95_ONE_CLIENT_MS:.0f} ms: "
          f"{'met' if one < TARGET_P95_ONE_CLIENT_MS else 'NOT met'} ({one:.0f} ms); "
          f">= {TARGET_RPS:.0f} req/s: {'met' if min(o.hnsw_rps) >= TARGET_RPS else 'NOT met'} "
          f"({rps})")  # fmt: skip
    print(f"total runtime {o.total_s / 60:.1f} min; EXPLAIN ANALYZE plans in "
          f"{EXPLAIN_FILE.relative_to(HERE.parents[1])}")  # fmt: skip


def to_json(o: Outcome) -> dict[str, Any]:
    return {
        "machine": o.info,
        "setup": {
            "chunks": o.args.chunks,
            "documents": o.args.docs,
            "questions": len(o.data.questions),
            "warmup": len(o.data.warmup),
            "clients": o.args.clients,
            "request": measure.retrieval_body("<question>", "<dataset>"),
            "vectors": o.data.approach,
            "real_embeddings": len(o.data.real_idx),
            "embed_rate_per_s": round(o.data.embed_rate, 1),
            "vector_stats": o.vector_stats,
        },
        "http": {r.name: r.summary() for r in o.http},
        "in_process": {
            "query_embedding_ms": {
                "p50": round(float(sorted(o.embed_ms)[len(o.embed_ms) // 2]), 2),
                "mean": round(sum(o.embed_ms) / len(o.embed_ms), 2),
            },
            **{s.mode: s.summary() for s in o.stages},
            "keyword_leg_by_matches": o.stages[0].keyword_buckets(),
        },
        "recall_at_10": {
            **{
                f"limit_{limit}": {str(ef): asdict(r) for ef, r in by_ef.items()}
                for limit, by_ef in o.recall.items()
            },
            "ef_search_in_code": _ef_search(),
            "target": RECALL_TARGET,
            "ef_search_reaching_target": o.ef_reaching_target(),
        },  # fmt: skip
        "load": {
            "data_s": round(o.data_s, 1),
            "upload_s": round(o.upload_s, 1),
            "prepare_s": round(o.load.prepare_s, 1),
            "copy_insert_stats_s": round(o.load.copy_s, 1),
            "hnsw_build_s": round(o.load.index_s, 1),
            "hnsw_rebuild_s": round(o.rebuild_s, 1),
            "vacuum_analyze_s": round(o.load.vacuum_s, 1),
            "index": o.index_def,
        },
        "verify": o.checks,
        "target_p95_ms": TARGET_P95_MS,
        "target_p95_one_client_ms": TARGET_P95_ONE_CLIENT_MS,
        "target_req_per_s": TARGET_RPS,
        "hnsw_req_per_s": [round(r, 2) for r in o.hnsw_rps],
        "target_met": o.target_met,
        "hnsw_p95_ms": [round(p, 1) for p in o.hnsw_p95],
        "total_runtime_s": round(o.total_s, 1),
    }


def main() -> int:
    args = parse_args()
    # SIGTERM (timeout, CI) unwinds like Ctrl-C, so the stack is stopped and its dir removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    outcome = run(args)
    EXPLAIN_FILE.write_text("\n\n".join(outcome.explains) + "\n")
    report(outcome)
    RESULTS.write_text(json.dumps(to_json(outcome), indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parents[1])}")
    return 0


def _ef_search() -> int:
    from knowledge import retrieval

    return int(retrieval.EF_SEARCH)


if __name__ == "__main__":
    sys.exit(main())
