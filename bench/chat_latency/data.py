"""10k passages (the retrieval-latency corpus plus 50 facts) with real MiniLM vectors, cached.

Passages come from `bench.retrieval_latency.corpus`; every 200th one (offset 100) is replaced by
a fact passage. Tokens (jieba) and embeddings (the bundled MiniLM in a separate process) are
computed by `bench.retrieval_latency.data` helpers and cached under .cache/, keyed by a hash of
the texts, so only the first run pays the ~10 min of embedding on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.chat_latency.facts import Fact, make
from bench.retrieval_latency import data as latency_data
from bench.retrieval_latency.corpus import Corpus, Passage, questions

CACHE = Path(__file__).resolve().parent / ".cache"
FACT_STRIDE = 200


@dataclass
class ChatData:
    data: latency_data.Data  # what bench.retrieval_latency.loader.load takes
    facts: list[Fact]
    fact_rows: list[int]  # passage index of each fact
    warmup: list[str]
    embed_s: float  # 0 when the vectors came from the cache


def build(n: int = 10_000, docs: int = 10, n_facts: int = 50, n_warmup: int = 3) -> ChatData:
    if n_facts * FACT_STRIDE > n:
        raise ValueError(f"{n_facts} facts need at least {n_facts * FACT_STRIDE} passages")
    corpus = Corpus(docs=docs)
    per_doc = n // docs
    passages = [corpus.passage(i, min(i // per_doc, docs - 1)) for i in range(n)]
    warmup = questions(corpus, passages, n_warmup, seed=11)
    facts = make(n_facts)
    fact_rows = [i * FACT_STRIDE + FACT_STRIDE // 2 for i in range(n_facts)]
    for row, fact in zip(fact_rows, facts, strict=True):
        passages[row] = Passage(fact.text, "facts", "", "", "", (), 0)
    texts = [p.text for p in passages]
    if len(set(texts)) != n:
        raise RuntimeError("passages repeat: chunk ids would collide")

    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    cache = CACHE / f"{n}x{docs}-{digest}"
    cache.mkdir(parents=True, exist_ok=True)
    ltks_file = cache / "ltks.json"
    if ltks_file.exists():
        ltks: list[str] = json.loads(ltks_file.read_text())
    else:
        started = time.monotonic()
        ltks = latency_data.segment_all(texts)
        ltks_file.write_text(json.dumps(ltks))
        print(f"segmented {n} passages with jieba in {time.monotonic() - started:.1f} s")
    if not (cache / "all.npy").exists():
        print(f"embedding {n} passages with MiniLM (2 threads; cached in {cache})", flush=True)
    vectors, embed_s = latency_data.embed(texts, cache, "all")
    data = latency_data.Data(
        passages=passages,
        ltks=ltks,
        vectors=vectors,
        warmup=warmup,
        questions=[f.question for f in facts],
        question_vectors=np.zeros((0, vectors.shape[1]), dtype=np.float32),
        real_idx=np.arange(n),
        approach=f"real MiniLM embeddings for all {n} passages",
        embed_rate=n / embed_s if embed_s else 0.0,
        docs=docs,
    )
    return ChatData(data, facts, fact_rows, warmup, embed_s)
