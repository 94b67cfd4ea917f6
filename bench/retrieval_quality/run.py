"""Retrieval quality through the real API: nDCG@10, recall@10 and MRR@10 per method and language.

Run as `python -m bench.retrieval_quality.run` (or `make bench-quality`). Starts
`python -m ragsite.launcher` in a temp dir on free ports, or uses the server named by
RAGSITE_URL + RAGSITE_API_KEY. Creates one dataset per language (English: MiniLM; Chinese: the
multilingual USE model), one document per domain, and adds every passage of
data/corpus.jsonl as a chunk through the chunk API (embedded synchronously), remembering
pid -> chunk id. Then every question of data/questions.jsonl is asked through
POST /api/v1/retrieval with vector_similarity_weight 0 (keyword only), 1 (vector only) and 0.3
(RAGFlow's default hybrid). Prints a table and writes results-latest.json beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = HERE / "data"
RESULTS = HERE / "results-latest.json"
MODELS = {
    "en": "sentence-transformers/all-MiniLM-L6-v2@Builtin",
    "zh": "universal-sentence-encoder-multilingual-v3@Builtin",
}
# One document per domain: a chunk's vector mixes in its document name (as in RAGFlow).
DOCUMENT_NAMES = {
    "en": {"products": "product-manuals.txt", "hr": "hr-policies.txt",
           "cities": "city-guide.txt", "animals": "wildlife-notes.txt",
           "runbooks": "it-runbooks.txt"},
    "zh": {"products": "产品说明书.txt", "hr": "人事制度汇编.txt", "cities": "城市概况.txt",
           "animals": "动物知识.txt", "runbooks": "运维手册.txt"},
}  # fmt: skip
METHODS = {"keyword": 0.0, "vector": 1.0, "hybrid": 0.3}
K = 10
START_TIMEOUT = 300.0


# --- the server -------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class Server:
    url: str
    api_key: str


@contextlib.contextmanager
def launched_server(var_dir: Path | None = None) -> Iterator[Server]:
    """`python -m ragsite.launcher` in a mkdtemp dir (the postgres user must traverse it).

    With `var_dir`, the server keeps its data there (it survives; only the temp dir goes).
    """
    tmp = Path(tempfile.mkdtemp(prefix="ragsite-quality-"))
    web_port, valkey_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "RAGSITE_VAR_DIR": str(var_dir or tmp / "var"),
        "RAGSITE_PORT": str(web_port),
        "RAGSITE_VALKEY_PORT": str(valkey_port),
        "RAGSITE_ADMIN_PASSWORD": "bench-admin-password",
        "HF_HUB_OFFLINE": "1",
    }
    log_path = tmp / "launcher.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragsite.launcher"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "ragsite is running at" not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"launcher not ready:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        match = re.search(r"DATABASE_URL='([^']+)'", log_path.read_text(errors="replace"))
        if match:
            env["DATABASE_URL"] = match.group(1)
        done = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "admin", "--name", "quality"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        yield Server(f"http://127.0.0.1:{web_port}", done.stdout.strip().splitlines()[-1])
    except BaseException:
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


class Api:
    """The few RAGFlow HTTP calls used here; raises on a non-zero envelope code."""

    def __init__(self, server: Server) -> None:
        self.base = server.url.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only: ignore proxy settings
        self.http.headers["Authorization"] = f"Bearer {server.api_key}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, timeout=300, **kwargs)
        response.raise_for_status()
        body = response.json()
        if body.get("code") != 0:
            raise RuntimeError(f"{method} {path}: {body}")
        return body.get("data")


# --- loading ----------------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_corpus(api: Api, lang: str, passages: list[dict[str, Any]], tag: str) -> tuple[str, dict]:
    """Create the dataset and add every passage as a chunk: (dataset id, {chunk id: pid})."""
    dataset = api.call(
        "POST", "/datasets", json={"name": f"quality-{lang}-{tag}", "embedding_model": MODELS[lang]}
    )
    dataset_id = str(dataset["id"])
    documents: dict[str, str] = {}
    for domain, name in DOCUMENT_NAMES[lang].items():
        blob = f"{name}: passages are added as chunks by bench/retrieval_quality.\n".encode()
        uploaded = api.call(
            "POST", f"/datasets/{dataset_id}/documents", files={"file": (name, blob, "text/plain")}
        )
        documents[domain] = str(uploaded[0]["id"])
    chunk_to_pid: dict[str, str] = {}
    started = time.monotonic()
    for n, passage in enumerate(passages, 1):
        document_id = documents[passage["domain"]]
        data = api.call(
            "POST",
            f"/datasets/{dataset_id}/documents/{document_id}/chunks",
            json={"content": passage["text"]},
        )
        chunk_to_pid[str(data["chunk"]["id"])] = passage["pid"]
        if n % 250 == 0 or n == len(passages):
            rate = n / (time.monotonic() - started)
            print(f"   {lang}: {n}/{len(passages)} chunks added ({rate:.1f}/s)", flush=True)
    if len(chunk_to_pid) != len(passages):
        raise RuntimeError(f"{lang}: {len(passages)} passages gave {len(chunk_to_pid)} chunk ids")
    return dataset_id, chunk_to_pid


# --- scoring ----------------------------------------------------------------------------------


def ndcg(ranked: Sequence[str], relevant: Set[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def recall(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr(ranked: Sequence[str], relevant: set[str], k: int = K) -> float:
    return next((1 / (i + 1) for i, pid in enumerate(ranked[:k]) if pid in relevant), 0.0)


@dataclass
class Outcome:
    """One question asked with one method."""

    qid: str
    lang: str
    kind: str
    method: str
    ndcg: float
    recall: float
    mrr: float
    seconds: float
    ranked: list[str] = field(default_factory=list)


def ask(
    api: Api, question: dict[str, Any], dataset_id: str, chunk_to_pid: dict[str, str]
) -> list[Outcome]:
    relevant = set(question["relevant"])
    out = []
    for method, weight in METHODS.items():
        body = {
            "question": question["question"],
            "dataset_ids": [dataset_id],
            "vector_similarity_weight": weight,
            "similarity_threshold": 0,
            "page_size": K,
            "top_k": 1024,
            "highlight": False,
        }
        started = time.perf_counter()
        data = api.call("POST", "/retrieval", json=body)
        seconds = time.perf_counter() - started
        ranked = [chunk_to_pid.get(str(c["id"]), "?") for c in data["chunks"]]
        out.append(
            Outcome(
                question["qid"],
                question["lang"],
                question["kind"],
                method,
                ndcg(ranked, relevant),
                recall(ranked, relevant),
                mrr(ranked, relevant),
                seconds,
                ranked,
            )  # fmt: skip
        )
    return out


# --- reporting --------------------------------------------------------------------------------


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
    }


def aggregate(outcomes: list[Outcome]) -> dict[str, float]:
    if not outcomes:
        return {}
    latencies = sorted(o.seconds for o in outcomes)
    return {
        "n": len(outcomes),
        "ndcg@10": round(statistics.fmean(o.ndcg for o in outcomes), 4),
        "recall@10": round(statistics.fmean(o.recall for o in outcomes), 4),
        "mrr@10": round(statistics.fmean(o.mrr for o in outcomes), 4),
        "latency_p50_ms": round(1000 * statistics.median(latencies), 1),
        "latency_p95_ms": round(
            1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1
        ),
    }


def breakdown(outcomes: list[Outcome], by: str) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {group: metrics}} with groups from the attribute `by` plus "all"."""
    table: dict[str, dict[str, dict[str, float]]] = {}
    for method in METHODS:
        mine = [o for o in outcomes if o.method == method]
        groups = sorted({getattr(o, by) for o in mine})
        table[method] = {g: aggregate([o for o in mine if getattr(o, by) == g]) for g in groups}
        table[method]["all"] = aggregate(mine)
    return table


def render(table: dict[str, dict[str, dict[str, float]]], title: str) -> str:
    groups = list(next(iter(table.values())))
    head = f"{title:<9}" + "".join(f"{g:>24}" for g in groups)
    sub = " " * 9 + "".join(f"{'nDCG   R@10   MRR':>24}" for _ in groups)
    lines = [head, sub]
    for method, weight in METHODS.items():
        cells = "".join(
            f"{table[method][g]['ndcg@10']:>10.3f}{table[method][g]['recall@10']:>7.3f}"
            f"{table[method][g]['mrr@10']:>7.3f}"
            for g in groups
        )
        lines.append(f"{method + f' {weight:g}':<9}{cells}")
    return "\n".join(lines)


def per_question(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """{qid: {method: {ndcg, top 3 pids}}}: enough to look into failures without re-running."""
    out: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        out.setdefault(o.qid, {})[o.method] = {"ndcg": round(o.ndcg, 4), "top": o.ranked[:3]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--passages", type=int, default=0, help="smoke test: load only N passages per language"
    )
    args = parser.parse_args()
    corpus = read_jsonl(DATA / "corpus.jsonl")
    questions = read_jsonl(DATA / "questions.jsonl")
    if args.passages:
        corpus = [p for p in corpus if int(p["pid"].split("-")[1]) < args.passages]
        kept = {p["pid"] for p in corpus}
        questions = [q for q in questions if set(q["relevant"]) <= kept]
    langs = list(MODELS)
    print(f"corpus: {len(corpus)} passages, {len(questions)} questions", flush=True)

    url, key = os.environ.get("RAGSITE_URL"), os.environ.get("RAGSITE_API_KEY")
    server_cm = contextlib.nullcontext(Server(url, key)) if url and key else launched_server()
    started = time.monotonic()
    timings: dict[str, float] = {}
    outcomes: list[Outcome] = []
    with server_cm as server:
        api = Api(server)
        timings["start"] = round(time.monotonic() - started, 1)
        print(f"server {server.url} ready after {timings['start']:.0f} s", flush=True)
        tag = dt.datetime.now().strftime("%Y%m%d%H%M%S")
        loaded: dict[str, tuple[str, dict[str, str]]] = {}
        for lang in langs:
            t0 = time.monotonic()
            passages = [p for p in corpus if p["lang"] == lang]
            loaded[lang] = load_corpus(api, lang, passages, tag)
            timings[f"load_{lang}"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        for n, question in enumerate(questions, 1):
            dataset_id, chunk_to_pid = loaded[question["lang"]]
            outcomes += ask(api, question, dataset_id, chunk_to_pid)
            if n % 100 == 0:
                print(f"   {n}/{len(questions)} questions asked", flush=True)
        timings["questions"] = round(time.monotonic() - t0, 1)
        if url and key:  # someone else's server: leave it as it was
            api.call("DELETE", "/datasets", json={"ids": [ds for ds, _ in loaded.values()]})
    timings["total"] = round(time.monotonic() - started, 1)

    info = machine()
    by_lang = breakdown(outcomes, "lang")
    by_kind = breakdown(outcomes, "kind")
    counts = {
        lang: {
            "passages": sum(1 for p in corpus if p["lang"] == lang),
            "questions": sum(1 for q in questions if q["lang"] == lang),
        }
        for lang in langs
    }
    print(f"\nRetrieval quality, {info['date']}: {info['nproc']} CPUs ({info['cpu']}), "
          f"{info['ram_gib']} GiB RAM, Python {info['python']}")  # fmt: skip
    print(" ".join(f"{lang}: {c['passages']} passages, {c['questions']} questions;"
                   for lang, c in counts.items()), f"models {MODELS}")  # fmt: skip
    print(f"\nper language (vector_similarity_weight in the first column; k={K})")
    print(render(by_lang, "method"))
    print("\nper question kind (both languages)")
    print(render(by_kind, "method"))
    print("\nlatency per /retrieval call (client side):")
    for method in METHODS:
        m = by_lang[method]["all"]
        print(f"  {method:<8} p50 {m['latency_p50_ms']:.0f} ms, p95 {m['latency_p95_ms']:.0f} ms")
    print(f"timings (s): {timings}")

    payload = {
        "machine": info,
        "models": MODELS,
        "counts": counts,
        "methods": METHODS,
        "timings_s": timings,
        "by_language": by_lang,
        "by_kind": by_kind,
        "per_question": per_question(outcomes),
    }
    if args.passages:
        print("smoke test (--passages): results-latest.json left as it was")
        return 0
    RESULTS.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
