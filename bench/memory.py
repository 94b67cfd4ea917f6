"""Memory of the whole `make run` stack: idle right after start, and after parsing and chatting.

Run as `python -m bench.memory` (or `make bench-memory`). It starts `python -m ragsite.launcher`
in a fresh temp var dir on free ports (bench.ingest's stack), waits until the web process has
warmed its model up, and measures every process of the stack: the launcher, Daphne, the Celery
worker (main and pool child), Valkey and PostgreSQL (postmaster and backends). Then it uses
the stack as a person would: uploads and parses ~40 pages with the default embedding model
(worker RSS sampled meanwhile for its peak), asks a chat assistant 10 questions (5 streamed)
and runs 20 retrievals, and measures again.

Per process it reports RSS and PSS. RSS counts shared pages (PostgreSQL's shared buffers, the
pages a forked pool child shares with its parent) once per process, so the RSS sum
overstates the stack; the PSS sum splits shared pages between their users and is what the
stack really holds. Targets (issue 11): ≤ 1 GB idle, ≤ 1.5 GB after use.
Results go to stdout and bench/results/memory-latest.json.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import requests
from ragflow_sdk import RAGFlow

from bench.corpus import make_corpus
from bench.ingest import parse_all, running_stack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "memory-latest.json"
MIB = 2**20
IDLE_TARGET_MIB = 1024
USED_TARGET_MIB = 1536
QUESTIONS = [
    "What did the field report say about the river crossing?",
    "Which memo mentions the budget review?",
    "Summarise the findings about the northern station.",
    "Who wrote about the supply delays?",
    "What happened during the winter survey?",
]


def _role(proc: psutil.Process) -> str:
    cmd = " ".join(proc.cmdline())
    if "ragsite.launcher" in cmd:
        return "launcher"
    if "daphne" in cmd:
        return "web (daphne)"
    if "valkey" in cmd or "redis-server" in cmd:
        return "valkey"
    if "celery" in cmd:
        parent = proc.parent()
        if parent is not None and "celery" in " ".join(parent.cmdline()):
            # The pool child that runs tasks (and beat, when a worker runs with -B).
            return "worker: children"
        return "worker: main"
    return proc.name()


def _pgdata(var_dir: Path) -> Path:
    return var_dir / "postgres"


def stack_processes(launcher_pid: int, var_dir: Path) -> list[tuple[str, psutil.Process]]:
    out: list[tuple[str, psutil.Process]] = []
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(launcher_pid)
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                out.append((_role(proc), proc))
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        pid = int((_pgdata(var_dir) / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        for proc in [postmaster, *postmaster.children(recursive=True)]:
            out.append(("postgres", proc))
    return out


def snapshot(launcher_pid: int, var_dir: Path) -> dict[str, dict[str, float]]:
    """{role: {rss_mib, pss_mib, processes}} summed per role, plus a total."""
    roles: dict[str, dict[str, float]] = {}
    for role, proc in stack_processes(launcher_pid, var_dir):
        with contextlib.suppress(psutil.Error):
            info = proc.memory_full_info()
            entry = roles.setdefault(role, {"rss_mib": 0.0, "pss_mib": 0.0, "processes": 0})
            entry["rss_mib"] += info.rss / MIB
            entry["pss_mib"] += getattr(info, "pss", info.rss) / MIB
            entry["processes"] += 1
    total = {
        "rss_mib": sum(e["rss_mib"] for e in roles.values()),
        "pss_mib": sum(e["pss_mib"] for e in roles.values()),
        "processes": sum(e["processes"] for e in roles.values()),
    }
    rounded = {role: {k: round(v, 1) for k, v in e.items()} for role, e in sorted(roles.items())}
    return rounded | {"total": {k: round(v, 1) for k, v in total.items()}}


@contextlib.contextmanager
def peak_sampler(launcher_pid: int, var_dir: Path) -> Iterator[dict[str, float]]:
    """The largest total PSS and RSS seen, sampled every 0.5 s while the block runs."""
    peak = {"rss_mib": 0.0, "pss_mib": 0.0}
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            total = snapshot(launcher_pid, var_dir)["total"]
            for key in peak:
                peak[key] = max(peak[key], total[key])
            stop.wait(0.5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def wait_warm(base_url: str, launcher_pid: int, var_dir: Path, timeout: float = 180) -> float:
    """Until the web process's memory stops growing (its model warm-up thread is done)."""
    started = time.monotonic()
    last, steady = -1.0, 0
    while time.monotonic() - started < timeout:
        web = snapshot(launcher_pid, var_dir).get("web (daphne)", {}).get("rss_mib", 0.0)
        steady = steady + 1 if abs(web - last) < 2 and web > 0 else 0
        if steady >= 5:
            break
        last = web
        time.sleep(1)
    with contextlib.suppress(requests.RequestException):
        requests.get(base_url + "/", timeout=30)
    return time.monotonic() - started


def use(rag: RAGFlow, base_url: str, key: str) -> dict[str, Any]:
    corpus = make_corpus(pdfs=2, pdf_pages=10, docx=3, docx_pages=3, txts=10)
    dataset = rag.create_dataset(name="memory")
    uploaded = dataset.upload_documents([{"display_name": f.name, "blob": f.blob} for f in corpus])
    seconds, docs = parse_all(dataset, [d.id for d in uploaded])
    chat = rag.create_chat("memory", dataset_ids=[dataset.id])
    session = chat.create_session("memory")
    answers = 0
    for index, question in enumerate(QUESTIONS * 2):
        streamed = index % 2 == 0
        reply = session.ask(question, stream=streamed)
        if streamed:
            for _ in reply:
                pass
        answers += 1
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = f"Bearer {key}"
    for question in QUESTIONS * 4:
        body = {"question": question, "dataset_ids": [dataset.id]}
        answer = http.post(f"{base_url}/api/v1/retrieval", json=body, timeout=120).json()
        if answer.get("code") != 0:
            raise RuntimeError(f"retrieval failed: {answer}")
    return {
        "documents": len(docs),
        "pages": sum(f.pages for f in corpus),
        "chunks": sum(int(d.chunk_count) for d in docs),
        "parse_s": round(seconds, 1),
        "chat_answers": answers,
        "retrievals": 20,
    }


def table(snapshots: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(snapshots)
    roles = sorted({r for s in snapshots.values() for r in s if r != "total"}) + ["total"]
    head = f"{'process':<16}" + "".join(f"{n + ' RSS':>20}{'PSS':>8}" for n in names)
    lines = [head, "-" * len(head)]
    for role in roles:
        cells = ""
        for name in names:
            entry = snapshots[name].get(role)
            count = f"({int(entry['processes'])}) " if entry and entry["processes"] > 1 else ""
            rss = f"{count}{entry['rss_mib']:.0f}" if entry else "-"
            pss = f"{entry['pss_mib']:.0f}" if entry else "-"
            cells += f"{rss:>20}{pss:>8}"
        lines.append(f"{role:<16}{cells}")
    return "\n".join(lines)


def main() -> int:
    load_start = [round(x, 2) for x in os.getloadavg()]
    with running_stack() as stack:
        pid, var_dir = stack.proc.pid, stack.var_dir
        warm_s = wait_warm(stack.base_url, pid, var_dir)
        idle = snapshot(pid, var_dir)
        key = stack.create_api_key()
        rag = RAGFlow(key, stack.base_url)
        with peak_sampler(pid, var_dir) as peak:
            usage = use(rag, stack.base_url, key)
        after = snapshot(pid, var_dir)
        time.sleep(10)
        settled = snapshot(pid, var_dir)
    result = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "nproc": os.cpu_count(),
            "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "loadavg_at_start": load_start,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "warm_up_wait_s": round(warm_s, 1),
        "usage": usage,
        "idle": idle,
        "after_use": after,
        "after_use_10s": settled,
        "peak_during_use": {k: round(v, 1) for k, v in peak.items()},
        "targets_mib": {"idle": IDLE_TARGET_MIB, "after_use": USED_TARGET_MIB},
    }
    print()
    print(f"Stack memory (MiB), {result['date']}; load average {load_start} → "
          f"{result['loadavg_at_end']}; use: {usage}")  # fmt: skip
    print(table({"idle": idle, "after use": after, "+10 s": settled}))
    print(f"peak during use: RSS {peak['rss_mib']:.0f}, PSS {peak['pss_mib']:.0f}")
    for name, snap, target in (
        ("idle", idle, IDLE_TARGET_MIB),
        ("after use", settled, USED_TARGET_MIB),
    ):
        total = snap["total"]
        pss = "met" if total["pss_mib"] <= target else "NOT met"
        rss = "met" if total["rss_mib"] <= target else "NOT met"
        print(f"target {name} <= {target} MiB: by PSS {pss} ({total['pss_mib']:.0f}); "
              f"by RSS sum (shared pages counted per process) {rss} "
              f"({total['rss_mib']:.0f})")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
