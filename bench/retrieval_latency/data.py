"""The benchmark's data, generated once and cached under .cache/: passages, tokens, vectors.

Vectors: real MiniLM embeddings for every passage if that fits the time budget (measured on a
1,000-passage probe), otherwise real ones for a 10% sample and, for the rest, a noisy mix of
two real vectors of passages on the same topic (same place when possible), so the vector
distribution stays that of real embeddings and vectors still agree with their text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from bench.retrieval_latency.corpus import Corpus, Passage, questions

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = 1
PROBE = 1000
REAL_SHARE = 10  # every 10th passage gets a real embedding when not all of them can
EMBED_BUDGET_S = 25 * 60
NOISE_SIGMA = 0.03  # per dimension (noise norm ≈ 0.59): nearest-neighbour cosines ≈ real ones


@dataclass
class Data:
    passages: list[Passage]
    ltks: list[str]
    vectors: np.ndarray
    warmup: list[str]
    questions: list[str]
    question_vectors: np.ndarray
    real_idx: np.ndarray  # rows whose vector is a real embedding
    approach: str
    embed_rate: float  # passages/s measured on the probe
    docs: int
    key: str = ""  # names the cache directory: same key, same chunks


def _log(message: str) -> None:
    print(message, flush=True)


def _segment(texts: Sequence[str]) -> list[str]:
    from knowledge import fulltext

    return [fulltext.segment(t) for t in texts]


def segment_all(texts: list[str]) -> list[str]:
    """jieba in two processes (one per core)."""
    half = len(texts) // 2
    with Pool(2) as pool:
        left, right = pool.map(_segment, [texts[:half], texts[half:]])
    return left + right


def embed(texts: list[str], cache: Path, name: str) -> tuple[np.ndarray, float]:
    """Vectors of `texts` from a separate process (cached as <cache>/<name>.npy), and seconds."""
    out = cache / f"{name}.npy"
    if out.exists():
        return np.load(out), 0.0
    source = cache / f"{name}.json"
    source.write_text(json.dumps(texts))
    started = time.monotonic()
    cmd = [sys.executable, "-m", "bench.retrieval_latency.embed", str(source), str(out)]
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            done, total, seconds = line.split()
            if int(done) % 5000 == 0 or done == total:
                _log(f"  embedded {done}/{total} in {float(seconds):.0f} s")
    if proc.returncode != 0:
        raise RuntimeError(f"embedding process failed ({proc.returncode})")
    source.unlink()
    return np.load(out), time.monotonic() - started


def synthetic(passages: list[Passage], real_idx: np.ndarray, real: np.ndarray) -> np.ndarray:
    """All vectors: real rows where known, else a normalised a·v_i + (1−a)·v_j + noise."""
    rng = np.random.default_rng(12345)
    by_topic: dict[str, list[int]] = defaultdict(list)
    by_topic_place: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, index in enumerate(real_idx):
        p = passages[int(index)]
        by_topic[p.topic].append(row)
        by_topic_place[p.topic, p.place].append(row)
    out = np.empty((len(passages), real.shape[1]), dtype=np.float32)
    out[real_idx] = real
    known = set(real_idx.tolist())
    for index, p in enumerate(passages):
        if index in known:
            continue
        near = by_topic_place.get((p.topic, p.place)) or by_topic[p.topic]
        pool = by_topic[p.topic]
        i = near[int(rng.integers(len(near)))]
        j = pool[int(rng.integers(len(pool)))]
        a = rng.uniform(0.5, 0.9)
        v = a * real[i] + (1 - a) * real[j] + rng.normal(0, NOISE_SIGMA, real.shape[1])
        out[index] = v / np.linalg.norm(v)
    return out


def build(
    n: int, docs: int, n_questions: int, n_warmup: int, budget_s: float = EMBED_BUDGET_S
) -> Data:
    corpus = Corpus(docs=docs)
    cache = CACHE / f"{n}x{docs}-seed{corpus.seed}-v{VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    per_doc = n // docs
    started = time.monotonic()
    passages = [corpus.passage(i, min(i // per_doc, docs - 1)) for i in range(n)]
    texts = [p.text for p in passages]
    asked = questions(corpus, passages, n_questions + n_warmup)
    _log(f"generated {n} passages in {time.monotonic() - started:.1f} s")

    if len(set(texts)) != n:
        raise RuntimeError("generated passages repeat: chunk ids would collide")
    meta_file = cache / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    ltks_file = cache / "ltks.json"
    if meta.get("ltks") and ltks_file.exists():
        ltks = json.loads(ltks_file.read_text())
    else:
        started = time.monotonic()
        ltks = segment_all(texts)
        ltks_file.write_text(json.dumps(ltks))
        meta["ltks"] = True
        _log(f"segmented {n} passages with jieba in {time.monotonic() - started:.1f} s")

    step = REAL_SHARE if n >= REAL_SHARE * PROBE else 1
    sample = np.arange(0, n, step)
    probe, probe_s = embed([texts[i] for i in sample[:PROBE]], cache, "probe")
    if probe_s:
        meta["embed_rate"] = len(probe) / probe_s
    rate = float(meta["embed_rate"])
    all_real = meta.get("all_real", n / rate <= budget_s)
    meta["all_real"] = all_real
    meta_file.write_text(json.dumps(meta))
    _log(f"MiniLM probe: {rate:.1f} passages/s (2 threads, batch 64) → all {n} would take "
         f"{n / rate / 60:.0f} min; budget {budget_s / 60:.0f} min")  # fmt: skip
    if all_real:
        vectors, _ = embed(texts, cache, "all")
        real_idx = np.arange(n)
        approach = f"real MiniLM embeddings for all {n} passages"
    else:
        rest, _ = embed([texts[i] for i in sample[PROBE:]], cache, "sample")
        real = np.vstack([probe, rest])
        vectors = synthetic(passages, sample, real)
        real_idx = sample
        approach = (
            f"real MiniLM embeddings for {len(sample)} passages (1 in {step}); the other "
            f"{n - len(sample)} are normalised a·v_i + (1−a)·v_j + N(0, {NOISE_SIGMA}²) mixes of "
            "two real vectors of the same topic (same place when possible), a ∈ [0.5, 0.9]"
        )
    question_vectors, _ = embed(asked, cache, "questions")
    return Data(
        passages=passages,
        ltks=ltks,
        vectors=vectors,
        warmup=asked[:n_warmup],
        questions=asked[n_warmup:],
        question_vectors=question_vectors[n_warmup:],
        real_idx=real_idx,
        approach=approach,
        embed_rate=rate,
        docs=docs,
        key=cache.name,
    )


def vector_stats(data: Data, sample: int = 300) -> dict[str, float]:
    """Mean nearest-neighbour cosine (excluding itself) for real vs synthetic rows."""
    rng = np.random.default_rng(1)
    real_mask = np.zeros(len(data.vectors), dtype=bool)
    real_mask[data.real_idx] = True
    stats: dict[str, float] = {}
    for name, mask in (("real", real_mask), ("synthetic", ~real_mask)):
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        pick = rng.choice(rows, size=min(sample, len(rows)), replace=False)
        sims = data.vectors[pick] @ data.vectors.T
        sims[np.arange(len(pick)), pick] = -1
        stats[f"nn_cosine_{name}"] = round(float(sims.max(axis=1).mean()), 3)
        stats[f"mean_cosine_{name}"] = round(float(sims.mean()), 3)
    q = data.question_vectors @ data.vectors.T
    stats["query_top1_cosine"] = round(float(q.max(axis=1).mean()), 3)
    stats["query_top10_cosine"] = round(float(np.sort(q, axis=1)[:, -10].mean()), 3)
    return stats
