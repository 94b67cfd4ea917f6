"""`make bench-load`: 50 concurrent API clients on the single-box stack and on the cluster.

Each client loops for --seconds, picking list datasets (40 %), retrieval (30 %), a chat
completion with the built-in answerer (20 %) or a small upload (10 %) over one parsed dataset.
Printed per target and operation: requests, errors (non-envelope answers, codes other than 0,
transport errors; the goal is 0), throughput, p50/p95, and /proc/loadavg before and after.

Targets: `single` starts `make run` (ragsite.launcher) on its own var dir and ports; `cluster`
starts the scale-out topology (ragsite.cluster) on its own directory and ports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from ragsite.cluster.client import Api, NotEnvelope
from ragsite.cluster.topology import ROOT, Cluster, Ports, http_status, wait_for

RESULTS = Path(__file__).with_name("results-latest.json")
MIX = [("list", 40), ("retrieval", 30), ("completion", 20), ("upload", 10)]
QUESTIONS = [
    "what runs on every node",
    "how are pods scheduled",
    "where do containers start",
    "what does the scheduler do",
]
DOCS = [
    f"Document {i}. The kubelet runs on every node and starts the containers of pod {i}.\n\n"
    f"The scheduler places pod {i} onto a node with free capacity. Services route traffic "
    f"to the pods behind them, and the API server stores the state of object {i}.\n"
    for i in range(5)
]


class SingleBox:
    """`make run` on its own var dir and ports."""

    def __init__(self, directory: Path, port: int = 9540, valkey: int = 6540) -> None:
        self.directory = directory
        self.port = port
        self.env = {
            **os.environ,
            "RAGSITE_VAR_DIR": str(directory),
            "RAGSITE_PORT": str(port),
            "RAGSITE_VALKEY_PORT": str(valkey),
            "HF_HUB_OFFLINE": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        log = (self.directory / "launcher.log").open("wb")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ragsite.launcher"], cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: http_status(self.url + "accounts/login/") == 200, 300, "make run")

    def key(self) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "admin"], cwd=ROOT, env=self.env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)


class ClusterTarget:
    def __init__(self, directory: Path) -> None:
        ports = Ports(proxy=9550, postgres=5550, redis=6550, s3=9556, webs=2)
        self.cluster = Cluster(directory, ports, workers=2, media="s3")

    @property
    def url(self) -> str:
        return self.cluster.url

    def start(self) -> None:
        self.cluster.start(say=lambda text: None)

    def key(self) -> str:
        self.cluster.manage("bootstrap_admin")
        return self.cluster.manage("create_api_key", "admin").strip().splitlines()[-1]

    def stop(self) -> None:
        self.cluster.stop()


def prepare(api: Api) -> tuple[str, str]:
    """One dataset with a few parsed documents, and a chat on it."""
    dataset = api.create_dataset(f"load-{int(time.time())}")
    ids = [api.upload(dataset, f"doc-{i}.txt", text.encode()) for i, text in enumerate(DOCS)]
    api.parse(dataset, ids)
    for document in ids:
        doc = api.wait_parsed(dataset, document, timeout=300)
        assert doc["run"] == "DONE", doc
    return dataset, api.create_chat(f"load-{int(time.time())}", [dataset])


def run_clients(
    url: str, key: str, dataset: str, chat: str, clients: int, seconds: float
) -> dict[str, Any]:
    lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    stop_at = time.monotonic() + seconds
    ops = [name for name, weight in MIX for _ in range(weight)]

    def client(seed: int) -> None:
        rng = random.Random(seed)
        api = Api(url, key, timeout=120)
        try:
            while time.monotonic() < stop_at:
                op = rng.choice(ops)
                started = time.perf_counter()
                problem = None
                try:
                    if op == "list":
                        answer = api.call("GET", "/datasets", params={"page_size": 30})
                    elif op == "retrieval":
                        answer = api.retrieval([dataset], rng.choice(QUESTIONS))
                    elif op == "completion":
                        answer = api.completion(chat, rng.choice(QUESTIONS))
                    else:
                        body = f"upload {seed} {time.time()}: pods run on nodes.\n".encode()
                        answer = api.call(
                            "POST", f"/datasets/{dataset}/documents",
                            files={"file": (f"u-{seed}-{rng.random():.9f}.txt", body)},
                        )  # fmt: skip
                    if answer.code != 0:
                        problem = f"code {answer.code}: {str(answer.body.get('message'))[:120]}"
                except (httpx.HTTPError, NotEnvelope) as exc:
                    problem = f"{type(exc).__name__}: {str(exc)[:120]}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies[op].append(elapsed)
                    if problem:
                        errors[op].append(problem)
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    load_before = Path("/proc/loadavg").read_text().strip()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    load_after = Path("/proc/loadavg").read_text().strip()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    every = [v for values in latencies.values() for v in values]
    per_op = {
        op: {
            "requests": len(values),
            "errors": len(errors[op]),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(pct(values, 0.95), 1),
        }
        for op, values in sorted(latencies.items())
    }
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(every),
        "errors": sum(len(e) for e in errors.values()),
        "throughput_rps": round(len(every) / wall, 2),
        "p50_ms": round(statistics.median(every) * 1000, 1) if every else 0.0,
        "p95_ms": round(pct(every, 0.95), 1),
        "per_op": per_op,
        "error_samples": {op: sorted(set(e))[:3] for op, e in errors.items()},
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", default="single,cluster")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for name in args.targets.split(","):
        directory = Path(tempfile.mkdtemp(prefix=f"ragsite-bench-load-{name}-"))
        target = SingleBox(directory) if name == "single" else ClusterTarget(directory)
        print(
            f"[{name}] starting ({directory}); load {Path('/proc/loadavg').read_text().strip()}",
            flush=True,
        )
        try:
            target.start()
            api = Api(target.url, target.key(), timeout=120)
            dataset, chat = prepare(api)
            api.close()
            print(f"[{name}] {args.clients} clients for {args.seconds:.0f} s", flush=True)
            result = run_clients(
                target.url, target.key(), dataset, chat, args.clients, args.seconds
            )
        finally:
            target.stop()
            shutil.rmtree(directory, ignore_errors=True)
        results[name] = result
        print(f"[{name}] {json.dumps(result, indent=1)}", flush=True)
    print("\ntarget   requests errors   req/s   p50 ms   p95 ms   loadavg after")
    for name, r in results.items():
        print(
            f"{name:<8} {r['requests']:>8} {r['errors']:>6} {r['throughput_rps']:>7} "
            f"{r['p50_ms']:>8} {r['p95_ms']:>8}   {r['loadavg_after']}"
        )
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
