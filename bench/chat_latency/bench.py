"""Orchestration: data → stack → bulk load → two chats → streamed and plain completions → report."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.chat_latency import breakdown
from bench.chat_latency import data as data_mod
from bench.chat_latency.facts import Fact
from bench.chat_latency.fake_llm import FakeLLM
from bench.retrieval_latency import loader, measure
from bench.retrieval_latency.bench import (
    MINILM,
    create_documents,
    machine,
    verify,
    wait_for_endpoint,
)
from bench.retrieval_latency.stack import Api, running_stack

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-latest.json"
BUILTIN = "ragsite-extractive@Builtin"
FACTORY = "BenchLLM"
FAKE_MODEL = "bench-model"
FAKE = f"{FAKE_MODEL}@{FACTORY}"
ELAPSED = re.compile(r"### Elapsed: ([\d.]+)s")
TOP_N = 6  # the chat default; retrieval is timed with the chat's own settings
LOOPBACK_NOTE = (
    "client and server on loopback: client-side times ≈ server-side time to first streamed "
    "token / to the end of the stream"
)


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Turn:
    """One completion, times in ms from sending the request."""

    model: str
    question: str
    total_ms: float
    ttft_ms: float | None = None  # first event with a non-empty answer (streamed only)
    elapsed_ms: float | None = None  # the server's "### Elapsed" (answer_stream, final event)
    model_called_ms: float | None = None  # the local model got its request (fake model only)
    model_first_token_ms: float | None = None  # the local model sent its first token
    fact_rank: int | None = None  # position of the fact passage among the reference chunks
    correct: bool = False  # the reply contains the fact's answer
    error: str | None = None


class ChatApi(Api):
    """The retrieval benchmark's client plus the chat calls."""

    def create_chat(self, name: str, dataset_id: str, model_id: str) -> dict[str, Any]:
        body = {"name": name, "dataset_ids": [dataset_id], "llm": {"model_name": model_id}}
        return dict(self._data(self.session.post(f"{self.base}/chats", json=body)))

    def create_session(self, chat_id: str, name: str) -> str:
        url = f"{self.base}/chats/{chat_id}/sessions"
        return str(self._data(self.session.post(url, json={"name": name}))["id"])

    def stream(self, chat_id: str, session_id: str, fact: Fact, model: str) -> Turn:
        url = f"{self.base}/chats/{chat_id}/completions"
        body = {"question": fact.question, "stream": True, "session_id": session_id}
        ttft: float | None = None
        final: dict[str, Any] | None = None
        started = time.perf_counter()
        with self.session.post(url, json=body, stream=True, timeout=300) as response:
            response.raise_for_status()
            if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
                raise RuntimeError(f"not a stream: {response.text[:300]}")
            # chunk_size=None: hand over each HTTP chunk as it arrives (512 would wait for more).
            for line in response.iter_lines(chunk_size=None):
                if not line.startswith(b"data:"):
                    continue
                event = json.loads(line[5:])
                if event.get("code") != 0:
                    raise RuntimeError(f"error event: {event}")
                payload = event["data"]
                if payload is True:
                    total = time.perf_counter() - started
                    break
                if ttft is None and payload.get("answer"):
                    ttft = time.perf_counter() - started
                if "prompt" in payload:
                    final = payload
            else:
                raise RuntimeError("the stream ended without its final data:true event")
        if final is None or ttft is None:
            raise RuntimeError(f"no answer or no final event (final={final is not None})")
        turn = _judge(Turn(model, fact.question, total * 1000, ttft * 1000), final, fact)
        match = ELAPSED.search(str(final.get("prompt", "")))
        turn.elapsed_ms = float(match.group(1)) * 1000 if match else None
        return turn

    def complete(self, chat_id: str, session_id: str, fact: Fact, model: str) -> Turn:
        url = f"{self.base}/chats/{chat_id}/completions"
        body = {"question": fact.question, "stream": False, "session_id": session_id}
        started = time.perf_counter()
        payload = self._data(self.session.post(url, json=body, timeout=300))
        total = time.perf_counter() - started
        return _judge(Turn(model, fact.question, total * 1000), payload, fact)

    def ping_ms(self) -> float:
        """A trivial authenticated call (list one chat): the fixed cost of any API request."""
        started = time.perf_counter()
        self._data(self.session.get(f"{self.base}/chats", params={"page_size": 1}, timeout=60))
        return (time.perf_counter() - started) * 1000

    def retrieval_ms(self, dataset_id: str, question: str) -> float:
        """POST /retrieval with what a chat with default settings asks for."""
        body = {"question": question, "dataset_ids": [dataset_id], "page_size": TOP_N,
                "similarity_threshold": 0.2, "vector_similarity_weight": 0.3, "top_k": 1024,
                "highlight": False}  # fmt: skip
        started = time.perf_counter()
        self._data(self.session.post(f"{self.base}/retrieval", json=body, timeout=120))
        return (time.perf_counter() - started) * 1000


def _judge(turn: Turn, payload: dict[str, Any], fact: Fact) -> Turn:
    chunks = (payload.get("reference") or {}).get("chunks") or []
    contents = [str(c.get("content", "")) for c in chunks]
    turn.fact_rank = contents.index(fact.text) + 1 if fact.text in contents else None
    turn.correct = fact.answer.lower() in str(payload.get("answer", "")).lower()
    return turn


def register_provider(base_url: str) -> None:
    """The local model as an administrator would configure it (Django against the stack's DB)."""
    from django.db import connections

    from knowledge.models import ModelProvider

    ModelProvider.objects.update_or_create(
        factory=FACTORY,
        defaults={"base_url": base_url, "chat_models": FAKE_MODEL, "enabled": True},
    )
    connections.close_all()


def one(api: ChatApi, chat_id: str, model: str, fact: Fact, llm: FakeLLM, stream: bool) -> Turn:
    """A fresh session, then one completion; failures are recorded, not raised."""
    session_id = api.create_session(chat_id, f"bench {fact.question[:40]}")
    mark = len(llm.received)
    started = time.perf_counter()
    try:
        if stream:
            turn = api.stream(chat_id, session_id, fact, model)
        else:
            turn = api.complete(chat_id, session_id, fact, model)
    except Exception as exc:  # noqa: BLE001 - one failed completion must not end the run
        return Turn(model, fact.question, float("nan"), error=f"{type(exc).__name__}: {exc}")
    if model == FAKE and len(llm.received) > mark:
        turn.model_called_ms = (llm.received[mark] - started) * 1000
        turn.model_first_token_ms = (llm.first_sent[mark] - started) * 1000
    return turn


def run(
    api: ChatApi, chats: dict[str, str], facts: Sequence[Fact], warmup: Sequence[Fact],
    non_stream: int, llm: FakeLLM,
) -> tuple[list[Turn], list[Turn]]:  # fmt: skip
    """Warm-up, then the questions, the models taking turns to go first (background load
    drifts); the first `non_stream` questions are also asked without streaming."""
    for fact in warmup:
        for model, chat_id in chats.items():
            one(api, chat_id, model, fact, llm, stream=True)
    order = list(chats.items())
    streamed: list[Turn] = []
    plain: list[Turn] = []
    for index, fact in enumerate(facts):
        turn_order = order if index % 2 == 0 else order[::-1]
        for model, chat_id in turn_order:
            streamed.append(one(api, chat_id, model, fact, llm, stream=True))
        # Plain (non-streamed) completions of the first questions, right after the streamed
        # ones of the same question, so both see the same background load.
        for model, chat_id in turn_order if index < non_stream else []:
            plain.append(one(api, chat_id, model, fact, llm, stream=False))
        if (index + 1) % 10 == 0:
            log(f"  {index + 1}/{len(facts)} questions per model")
    return streamed, plain


def stats(values: Sequence[float | None]) -> dict[str, float | int | None]:
    ms = [v for v in values if v is not None and not np.isnan(v)]
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "mean": None, "max": None}
    return {"n": len(ms), "p50": round(float(np.percentile(ms, 50)), 1),
            "p95": round(float(np.percentile(ms, 95)), 1), "mean": round(float(np.mean(ms)), 1),
            "max": round(max(ms), 1)}  # fmt: skip


def summary(model: str, streamed: list[Turn], plain: list[Turn]) -> dict[str, Any]:
    mine = [t for t in streamed if t.model == model]
    ok = [t for t in mine if t.error is None]
    plain_ok = [t for t in plain if t.model == model and t.error is None]
    return {
        "model": model,
        "questions": len(mine),
        "errors": [t.error for t in mine if t.error] + [t.error for t in plain if t.model == model and t.error],
        "stream": {
            "ttft_ms": stats([t.ttft_ms for t in ok]),
            "total_ms": stats([t.total_ms for t in ok]),
            "server_elapsed_ms": stats([t.elapsed_ms for t in ok]),
            "model_called_ms": stats([t.model_called_ms for t in ok]),
            "model_first_token_ms": stats([t.model_first_token_ms for t in ok]),
            "stream_after_first_token_ms": stats(
                [t.total_ms - t.ttft_ms for t in ok if t.ttft_ms is not None]
            ),
        },
        "non_stream_total_ms": stats([t.total_ms for t in plain_ok]),
        "fact_in_reference": sum(t.fact_rank is not None for t in ok),
        "fact_ranked_first": sum(t.fact_rank == 1 for t in ok),
        "answer_contains_fact": sum(t.correct for t in ok),
        "non_stream_answer_contains_fact": sum(t.correct for t in plain_ok),
    }  # fmt: skip


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _pair(s: dict[str, Any]) -> str:
    return "–" if s["p50"] is None else f"{s['p50']:.0f} / {s['p95']:.0f}"


def _grid(head: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells))

    return "\n".join([line(head), "  ".join("-" * w for w in widths), *map(line, body)])


def tables(results: list[dict[str, Any]]) -> str:
    main = _grid(
        ("model", "questions", "TTFT p50 ms", "TTFT p95 ms", "total p50 ms", "total p95 ms"),
        [(r["model"], str(r["stream"]["ttft_ms"]["n"]), _ms(r["stream"]["ttft_ms"]["p50"]),
          _ms(r["stream"]["ttft_ms"]["p95"]), _ms(r["stream"]["total_ms"]["p50"]),
          _ms(r["stream"]["total_ms"]["p95"])) for r in results],
    )  # fmt: skip
    n = results[0]["questions"]
    detail = _grid(
        ("model (p50 / p95 ms)", "server Elapsed", "model called", "model 1st token",
         "after 1st token", "non-stream total", "fact retrieved", "answer has fact"),
        [(r["model"], _pair(r["stream"]["server_elapsed_ms"]), _pair(r["stream"]["model_called_ms"]),
          _pair(r["stream"]["model_first_token_ms"]), _pair(r["stream"]["stream_after_first_token_ms"]),
          f"{_pair(r['non_stream_total_ms'])} (n={r['non_stream_total_ms']['n']})",
          f"{r['fact_in_reference']}/{n} ({r['fact_ranked_first']} 1st)",
          f"{r['answer_contains_fact']}/{n}") for r in results],
    )  # fmt: skip
    return f"{main}\n\n{detail}"


def main() -> int:
    parser = argparse.ArgumentParser(description="Chat completion latency at 10k chunks")
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--non-stream", type=int, default=10)
    parser.add_argument("--token-delay-ms", type=float, default=5.0)
    parser.add_argument("--breakdown", type=int, default=20, help="questions timed in-process")
    args = parser.parse_args()
    began = time.monotonic()
    info = machine()

    log(f"== data: {args.chunks} passages, {args.questions} of them facts")
    cd = data_mod.build(args.chunks, args.docs, args.questions, args.warmup)
    facts = cd.facts
    warmup = [Fact(q, q, "") for q in cd.warmup]
    data_s = time.monotonic() - began
    # The server calls the local model over loopback: never through a proxy.
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))
    llm = FakeLLM(args.token_delay_ms / 1000).start()
    tokens_per_s = 1000 / args.token_delay_ms
    fake_desc = (f"local OpenAI-protocol server, {len(llm.tokens)} tokens, token k due "
                 f"k × {args.token_delay_ms:g} ms after the request (≈{tokens_per_s:.0f} tokens/s, "
                 f"first token after {args.token_delay_ms:g} ms, ≈{len(llm.tokens) * args.token_delay_ms:.0f} ms per answer)")  # fmt: skip
    try:
        log("== starting ragsite (launcher) in a temp dir")
        with running_stack() as stack:
            api = ChatApi(stack.base_url, stack.create_api_key())
            dataset_id = api.create_dataset(f"chat-latency-{args.chunks}", MINILM)
            documents = create_documents(api, dataset_id, cd.data)
            times, _ = loader.load(stack.database_url, dataset_id, documents, cd.data)
            log(f"loaded {args.chunks} chunks in {times.total_s:.1f} s (bulk COPY + HNSW build)")
            measure.setup_django(stack.database_url, stack.var_dir)
            checks = verify(dataset_id, args.chunks)
            if not checks["ok"]:
                raise RuntimeError(f"the load does not match what the app would store: {checks}")
            register_provider(llm.base_url)
            wait_for_endpoint(api, dataset_id, 1800)
            chat_info = {
                BUILTIN: api.create_chat("bench builtin", dataset_id, BUILTIN),
                FAKE: api.create_chat("bench local model", dataset_id, FAKE),
            }
            chats = {model: str(c["id"]) for model, c in chat_info.items()}
            log(f"== {args.warmup} warm-up + {len(facts)} streamed + {args.non_stream} plain "
                "completions per model")  # fmt: skip
            meter = measure.CpuMeter(stack.proc.pid, stack.var_dir / "postgres")
            cpu: dict[str, Any] = {}
            with meter.measure(cpu):
                streamed, plain = run(api, chats, facts, warmup, args.non_stream, llm)
            log("== POST /api/v1/retrieval with the chat's settings, same questions")
            pairs = [(api.retrieval_ms(dataset_id, f.question), api.ping_ms()) for f in facts]
            retrieval = stats([r for r, _ in pairs])
            ping = stats([p for _, p in pairs])
            log(f"== in-process step timings, {args.breakdown} questions per model")
            asked = [cd.warmup[0], *(f.question for f in facts[: args.breakdown])]
            steps = breakdown.run(chats, asked, llm, stack.database_url)
    finally:
        llm.stop()

    total_s = time.monotonic() - began
    results = [summary(model, streamed, plain) for model in chats]
    errors = sum(len(r["errors"]) for r in results)
    print()
    print(f"Chat completion latency, {info['date']}: {info['nproc']} CPUs ({info['cpu']}), "
          f"{info['ram_gib']} GiB RAM, Python {info['python']}, load average at start "
          f"{info['loadavg_at_start']}, at end {[round(x, 2) for x in os.getloadavg()]}")  # fmt: skip
    print(f"{checks['chunks']} chunks in 1 dataset ({args.docs} documents, MiniLM vectors); "
          f"{len(facts)} questions about {len(facts)} fact passages, each in a new session, after "
          f"{args.warmup} warm-up questions; one request at a time, models alternating")  # fmt: skip
    print(f"models: {BUILTIN} (built-in, extractive); {FAKE}: {fake_desc}")
    print(f"chat settings: defaults (top_n {TOP_N}, similarity threshold 0.2, vector weight 0.3)")
    print(f"TTFT = request sent → first data: event with a non-empty answer; total = → the final "
          f"data:true event; {LOOPBACK_NOTE}")  # fmt: skip
    print()
    print(tables(results))
    print()
    print("fact retrieved = the fact's passage is among the reference chunks; answer has fact = "
          "the reply contains its answer (the local model's reply is canned: 0 expected)")  # fmt: skip
    print(f"server Elapsed = the final event's \"### Elapsed\" (retrieval → final event, inside "
          f"the server); model called / 1st token = when the local model got the request / sent "
          f"its first token; POST /api/v1/retrieval alone (same settings): p50 "
          f"{retrieval['p50']:.0f} ms, p95 {retrieval['p95']:.0f} ms; a trivial API call "
          f"(GET /api/v1/chats?page_size=1), interleaved: p50 {ping['p50']:.0f} ms, p95 "
          f"{ping['p95']:.0f} ms")  # fmt: skip
    print()
    print(breakdown.table(steps))
    print(f"(answer_stream called in the benchmark process against the stack's database, "
          f"{args.breakdown} questions per model, one at a time; → = time since it started)")  # fmt: skip
    pg = steps["new PostgreSQL connection"]
    print(f"opening a PostgreSQL connection (psycopg, unix socket): p50 {pg['p50']:.0f} ms, p95 "
          f"{pg['p95']:.0f} ms; DB_CONN_MAX_AGE defaults to 0, so Django closes its connection "
          "after every request and each API call opens one")  # fmt: skip
    print()
    print(f"other load on the machine during the completions: {cpu['other_cpu_s']:.0f} of "
          f"{cpu['capacity_cpu_s']:.0f} CPU-s (stack {cpu['stack_cpu_s']:.0f}, web "
          f"{cpu['web_cpu_s']:.0f}, PostgreSQL {cpu['postgres_cpu_s']:.0f})")  # fmt: skip
    print(f"errors: {errors}; load {times.total_s:.0f} s; data {data_s:.0f} s "
          f"(embedding {cd.embed_s:.0f} s, 0 = cached); total runtime {total_s / 60:.1f} min")  # fmt: skip

    payload = {
        "machine": info | {"loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "setup": {
            "chunks": checks["chunks"],
            "documents": args.docs,
            "embedding_model": MINILM,
            "questions": len(facts),
            "warmup": args.warmup,
            "non_stream_questions": args.non_stream,
            "local_model": fake_desc,
            "chat_settings": {m: {"llm": c["llm"], "prompt": {k: c["prompt"].get(k) for k in
                              ("similarity_threshold", "keywords_similarity_weight", "top_n")}}
                              for m, c in chat_info.items()},
            "note": LOOPBACK_NOTE,
        },
        "results": results,
        "retrieval_api_ms": retrieval,
        "trivial_api_call_ms": ping,
        "in_process_steps_ms": steps,
        "cpu_during_completions": cpu,
        "load": {"data_s": round(data_s, 1), "embed_s": round(cd.embed_s, 1),
                 "bulk_load_s": round(times.total_s, 1), "verify": checks},
        "turns": [asdict(t) for t in streamed + plain],
        "total_runtime_s": round(total_s, 1),
    }  # fmt: skip
    RESULTS.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parents[1])}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
