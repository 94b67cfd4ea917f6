"""Ingest throughput: parse + embed + index a ~220-page corpus through the real stack.

Run as `python -m bench.ingest` (or `make bench-ingest`). For each built-in embedding model it
starts `python -m ragsite.launcher` in a fresh temp var dir on free ports (so each model's
worker memory is measured alone), creates an API key, uploads the corpus with ragflow_sdk,
warms the model up with one small document, then asks for all documents to be parsed at once
and times it until the last one is DONE. The Celery worker's RSS (main process + pool + beat
children) is sampled every 0.2 s. Results go to stdout and bench/results/ingest-latest.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from ragflow_sdk import DataSet, Document, RAGFlow

from bench.corpus import CorpusFile, make_corpus

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ingest-latest.json"
MODELS = {
    "en": "sentence-transformers/all-MiniLM-L6-v2@Builtin",
    "multi": "universal-sentence-encoder-multilingual-v3@Builtin",
}
START_TIMEOUT = 300.0
PARSE_TIMEOUT = 3600.0
TERMINAL = {"DONE", "FAIL", "CANCEL"}
TARGET_PAGES_PER_MIN = 300.0  # text-layer documents, English model, 2 cores (issue 11)


# --- the stack --------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports nothing listens on right now."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


class Stack:
    """One `python -m ragsite.launcher` in a temp var dir; output kept in a log file."""

    def __init__(self) -> None:
        # mkdtemp, not a 0700 pytest dir: the postgres system user must traverse it.
        self.tmp = Path(tempfile.mkdtemp(prefix="ragsite-bench-"))
        self.var_dir = self.tmp / "var"
        self.log_path = self.tmp / "launcher.log"
        web_port, valkey_port = free_ports(2)
        self.base_url = f"http://127.0.0.1:{web_port}"
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.env |= {
            "RAGSITE_VAR_DIR": str(self.var_dir),
            "RAGSITE_PORT": str(web_port),
            "RAGSITE_VALKEY_PORT": str(valkey_port),
            "RAGSITE_ADMIN_PASSWORD": "bench-admin-password",
            "HF_HUB_OFFLINE": "1",
        }
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ragsite.launcher"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Until the banner is printed and the Celery worker says it is ready."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.output()
            if "ragsite is running at" in text and re.search(r"^worker .*ready\.", text, re.M):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"launcher exited early:\n{text[-4000:]}")
            time.sleep(0.5)
        raise RuntimeError(f"stack not ready after {START_TIMEOUT:.0f} s:\n{self.output()[-4000:]}")

    def create_api_key(self) -> str:
        """`manage.py create_api_key admin` against this stack's database."""
        env = dict(self.env)
        # The banner names the DATABASE_URL when the socket is not in the default place.
        match = re.search(r"DATABASE_URL='([^']+)'", self.output())
        if match:
            env["DATABASE_URL"] = match.group(1)
        done = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "admin", "--name", "bench"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    def processes(self) -> list[psutil.Process]:
        """This script, the launcher and its descendants, and the PostgreSQL server it started."""
        roots = [self.proc.pid]
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid_file = self.var_dir / "postgres" / "postmaster.pid"
            roots.append(int(pid_file.read_text().split()[0]))
        found = [psutil.Process()]
        for pid in roots:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                found += [root, *root.children(recursive=True)]
        return found

    def stop(self) -> None:
        """SIGTERM the launcher (it stops its children and Postgres) and wait; then clean up."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def running_stack() -> Iterator[Stack]:
    stack = Stack()
    try:
        stack.wait_ready()
        yield stack
    except BaseException:
        output = stack.output()
        tail = "\n".join(output.splitlines()[-60:])
        print(f"---- launcher output, last lines ----\n{tail}\n----", file=sys.stderr)
        if "launch | stop requested" in output:  # we had not stopped it yet
            print(
                f"The launcher (pid {stack.proc.pid}) was stopped by a signal from another "
                "process, not by this benchmark: something else on the machine killed it.",
                file=sys.stderr,
            )
        raise
    finally:
        stack.stop()


def _cpu(proc: psutil.Process) -> float:
    """CPU seconds of a process, plus those of its exited children it has reaped."""
    t = proc.cpu_times()
    return float(t.user + t.system + t.children_user + t.children_system)


class Sampler:
    """Every `interval` s: the worker's summed RSS (peak kept), and CPU time per process group.

    Worker CPU time against wall time shows how busy the single worker was. Machine CPU time
    minus the whole stack's (launcher tree, PostgreSQL, this script) is load from elsewhere on
    the box, which skews the figures when it is high.
    """

    def __init__(self, stack: Stack, interval: float = 0.2) -> None:
        self.stack = stack
        self.interval = interval
        self.peak_rss = 0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._workers: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._machine_start = self._machine_busy()
        self.machine_cpu = 0.0

    @staticmethod
    def _machine_busy() -> float:
        t = psutil.cpu_times()
        return float(t.user + t.nice + t.system + t.irq + t.softirq)

    def _sample(self) -> None:
        rss = 0
        for proc in self.stack.processes():
            with contextlib.suppress(psutil.Error), proc.oneshot():
                cpu = _cpu(proc)
                if "celery" in " ".join(proc.cmdline()):
                    self._workers.add(proc.pid)
                    rss += proc.memory_info().rss
                self._first.setdefault(proc.pid, cpu)
                self._last[proc.pid] = cpu
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _used(self, pids: set[int]) -> float:
        return sum(self._last[pid] - self._first[pid] for pid in pids)

    @property
    def worker_cpu(self) -> float:
        """CPU seconds the Celery processes used while sampled."""
        return self._used(self._workers)

    @property
    def other_cpu(self) -> float:
        """CPU seconds used on the machine by anything but the stack and this script."""
        return max(0.0, self.machine_cpu - self._used(set(self._last)))

    def __enter__(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.machine_cpu = self._machine_busy() - self._machine_start


# --- one model --------------------------------------------------------------------------------


@dataclass
class Phases:
    """Seconds summed over documents, from the worker's HH:MM:SS progress log (±1 s each)."""

    parse: float = 0.0
    embed: float = 0.0
    index: float = 0.0
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Result:
    model: str
    documents: int
    pages: int
    words: int
    chunks: int
    tokens: int
    seconds: float
    warmup_seconds: float
    peak_worker_rss_mib: float
    worker_cpu_seconds: float  # CPU time of the worker processes during the parse
    machine_cpu_seconds: float  # CPU time of the whole machine (all cores) during the parse
    other_cpu_seconds: float  # of which used by processes outside the stack and this script
    phases: Phases

    @property
    def pages_per_min(self) -> float:
        return self.pages / self.seconds * 60

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds


_STEPS = {
    "start": "Start to parse.",
    "chunked": "Chunking done",
    "indexing": "Indexing.",
    "done": "Task done",
}


def _step_times(progress_msg: str) -> dict[str, float]:
    """Seconds of day at which each pipeline step was logged (first occurrence)."""
    times: dict[str, float] = {}
    for line in progress_msg.splitlines():
        match = re.match(r"(\d\d):(\d\d):(\d\d) (.*)", line)
        if not match:
            continue
        h, m, s, text = match.groups()
        for step, prefix in _STEPS.items():
            if text.startswith(prefix) and step not in times:
                times[step] = int(h) * 3600 + int(m) * 60 + int(s)
    return times


def phases_of(documents: list[Document], kinds: dict[str, str]) -> Phases:
    phases = Phases()
    for doc in documents:
        times = _step_times(doc.progress_msg or "")
        if len(times) < len(_STEPS):
            continue
        spans = {
            "parse": times["chunked"] - times["start"],
            "embed": times["indexing"] - times["chunked"],
            "index": times["done"] - times["indexing"],
        }
        kind = kinds.get(doc.name, "?")
        per_kind = phases.by_kind.setdefault(kind, dict.fromkeys(spans, 0.0))
        for name, seconds in spans.items():
            seconds = seconds % 86400  # across midnight
            setattr(phases, name, getattr(phases, name) + seconds)
            per_kind[name] += seconds
    return phases


def parse_all(dataset: DataSet, ids: list[str]) -> tuple[float, list[Document]]:
    """Request parsing of `ids`, poll until all are terminal; (seconds, final documents)."""
    started = time.monotonic()
    dataset.async_parse_documents(ids)
    deadline = started + PARSE_TIMEOUT
    wanted_ids = set(ids)
    while True:
        docs = dataset.list_documents(page_size=len(ids) + 10)
        wanted = [d for d in docs if d.id in wanted_ids]
        if len(wanted) == len(ids) and all(d.run in TERMINAL for d in wanted):
            elapsed = time.monotonic() - started
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"parsing not finished after {PARSE_TIMEOUT:.0f} s")
        time.sleep(0.25)
    failed = [d for d in wanted if d.run != "DONE"]
    if failed:
        details = "\n".join(f"- {d.name}: {d.run}\n{d.progress_msg}" for d in failed)
        raise RuntimeError(f"{len(failed)} document(s) did not parse:\n{details}")
    return elapsed, wanted


def bench_model(model_key: str, corpus: list[CorpusFile]) -> Result:
    model = MODELS[model_key]
    print(f"\n== {model}: starting the stack", flush=True)
    with running_stack() as stack:
        rag = RAGFlow(stack.create_api_key(), stack.base_url)
        # Warm-up: the worker loads the model on first use; keep that out of the throughput.
        warm = rag.create_dataset(name=f"warmup-{model_key}", embedding_model=model)
        (doc,) = warm.upload_documents([{"display_name": "warmup.txt", "blob": b"Warm up. " * 50}])
        warmup_seconds, _ = parse_all(warm, [doc.id])
        print(f"   warm-up (model load) {warmup_seconds:.1f} s; uploading", flush=True)

        dataset = rag.create_dataset(name=f"bench-{model_key}", embedding_model=model)
        uploaded = dataset.upload_documents(
            [{"display_name": f.name, "blob": f.blob} for f in corpus]
        )
        print(f"   parsing {len(uploaded)} documents", flush=True)
        with Sampler(stack) as sampler:
            seconds, docs = parse_all(dataset, [d.id for d in uploaded])
    return Result(
        model=model,
        documents=len(docs),
        pages=sum(f.pages for f in corpus),
        words=sum(_words(f) for f in corpus),
        chunks=sum(int(d.chunk_count) for d in docs),
        tokens=sum(int(d.token_count) for d in docs),
        seconds=round(seconds, 2),
        warmup_seconds=round(warmup_seconds, 2),
        peak_worker_rss_mib=round(sampler.peak_rss / 2**20, 1),
        worker_cpu_seconds=round(sampler.worker_cpu, 1),
        machine_cpu_seconds=round(sampler.machine_cpu, 1),
        other_cpu_seconds=round(sampler.other_cpu, 1),
        phases=phases_of(docs, {f.name: f.kind for f in corpus}),
    )


def _words(file: CorpusFile) -> int:
    if file.kind == "pdf":
        import pypdfium2

        pdf = pypdfium2.PdfDocument(file.blob)
        return sum(len(page.get_textpage().get_text_range().split()) for page in pdf)
    if file.kind == "docx":
        import io

        import docx

        return sum(len(p.text.split()) for p in docx.Document(io.BytesIO(file.blob)).paragraphs)
    return len(file.blob.split())


# --- reporting --------------------------------------------------------------------------------


def machine() -> dict[str, str | int | float]:
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
        "RAGSITE_EMBED_THREADS": os.environ.get(
            "RAGSITE_EMBED_THREADS", f"{min(4, os.cpu_count() or 1)} (the launcher's default)"
        ),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(results: list[Result]) -> str:
    head = ("model", "docs", "pages", "chunks", "tokens", "seconds", "pages/min", "chunks/s",
            "peak worker RSS MiB")  # fmt: skip
    rows = [
        (
            r.model,
            str(r.documents),
            str(r.pages),
            str(r.chunks),
            str(r.tokens),
            f"{r.seconds:.1f}",
            f"{r.pages_per_min:.1f}",
            f"{r.chunks_per_s:.2f}",
            f"{r.peak_worker_rss_mib:.0f}",
        )  # fmt: skip
        for r in results
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *map(line, rows)])


def phase_lines(result: Result) -> list[str]:
    p = result.phases
    total = p.parse + p.embed + p.index or 1.0
    out = [
        f"{result.model}: worker time (sum over documents, from progress_msg, ±1 s/doc): "
        f"parse {p.parse:.0f} s ({p.parse / total:.0%}), embed {p.embed:.0f} s "
        f"({p.embed / total:.0%}), index {p.index:.0f} s ({p.index / total:.0%}); "
        f"warm-up/model load {result.warmup_seconds:.1f} s",
        f"    CPU during the {result.seconds:.0f} s parse: worker {result.worker_cpu_seconds:.0f} s "
        f"({result.worker_cpu_seconds / result.seconds:.0%} of one core), whole machine "
        f"{result.machine_cpu_seconds:.0f} s of {result.seconds * (os.cpu_count() or 1):.0f} s, "
        f"of which {result.other_cpu_seconds:.0f} s outside the stack",
        f"    = {result.pages / result.worker_cpu_seconds * 60:.0f} pages per worker CPU-minute "
        "(with one embedding thread, the wall-clock rate a quiet machine approaches)",
    ]
    if result.other_cpu_seconds > 0.1 * result.seconds:
        out.append(
            f"    WARNING: other programs used {result.other_cpu_seconds / result.seconds:.0%} of a "
            "core during this run; the figures are lower than on a quiet machine"
        )
    for kind, spans in sorted(p.by_kind.items()):
        parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in spans.items())
        out.append(f"    {kind}: {parts}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="en,multi", help="comma-separated: en, multi")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="corpus size factor (1 = 220 pages)"
    )
    args = parser.parse_args()
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model key(s) {unknown}; choose from {sorted(MODELS)}")

    scaled = {
        k: max(1, round(v * args.scale)) for k, v in {"pdfs": 12, "docx": 20, "txts": 40}.items()
    }
    corpus = make_corpus(**scaled)
    kinds = {k: sum(f.pages for f in corpus if f.kind == k) for k in ("pdf", "docx", "txt")}
    print(f"corpus: {len(corpus)} files, {sum(f.pages for f in corpus)} pages {kinds}", flush=True)

    results = [bench_model(key, corpus) for key in keys]
    info = machine()
    print(f"\nIngest benchmark, {info['date']}: {info['nproc']} CPUs ({info['cpu']}), "
          f"{info['ram_gib']} GiB RAM, Python {info['python']}, "
          f"worker embedding threads {info['RAGSITE_EMBED_THREADS']}")  # fmt: skip
    print(f"corpus: {len(corpus)} documents = {kinds['pdf']} PDF pages (text layer) + "
          f"{kinds['docx']} DOCX pages + {kinds['txt']} TXT pages, {results[0].words} words\n")  # fmt: skip
    print(table(results))
    print()
    for result in results:
        print("\n".join(phase_lines(result)))
    english = next((r for r in results if r.model == MODELS["en"]), None)
    if english is not None:
        ok = english.pages_per_min >= TARGET_PAGES_PER_MIN
        print(f"\ntarget >= {TARGET_PAGES_PER_MIN:.0f} pages/min with the English model: "
              f"{'met' if ok else 'NOT met'} ({english.pages_per_min:.1f})")  # fmt: skip

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": info,
        "corpus": {"documents": len(corpus), "pages": kinds, "words": results[0].words},
        "results": [
            {
                **asdict(r),
                "pages_per_min": round(r.pages_per_min, 1),
                "chunks_per_s": round(r.chunks_per_s, 2),
            }  # fmt: skip
            for r in results
        ],
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
