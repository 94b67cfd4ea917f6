"""MiniLM on ONNX Runtime: the same vectors as sentence-transformers, and no torch in the web."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import embeddings, onnx_minilm

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    "How many walruses live on the island?",
    "",
    "   leading and trailing spaces   ",
    "Ünïcödé café naïve résumé",
    "我忘记了登录密码，怎么重置？",
    # longer than one window (160 words) and than the model's 256 word-pieces per window
    " ".join(f"passage{i % 37} about indexing, vectors and PostgreSQL" for i in range(120)),
    "知识库检索系统支持全文检索和向量搜索。" * 30,
    "short",
    "A medium sentence about the 1999 census of walruses on Svalbard and the fjords near it.",
]


def _sentence_transformers_vectors(texts: list[str]) -> np.ndarray:
    """What the app stored before the switch: sentence-transformers, same windows and means."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(onnx_minilm.model_dir()), device="cpu")
    rows = []
    for text in texts:
        windows = embeddings.text_windows(text)
        vectors = model.encode(windows, batch_size=16, convert_to_numpy=True)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        mean = vectors.sum(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return np.vstack(rows)


def test_onnx_vectors_equal_sentence_transformers() -> None:
    ours = embeddings.embed_texts(embeddings.MINILM_ID, TEXTS)
    reference = _sentence_transformers_vectors(TEXTS)
    cosines = (ours * reference).sum(axis=1)
    assert ours.shape == (len(TEXTS), 384)
    assert cosines.min() >= 0.999, cosines
    # A question embedded alone (padding differs from a batch) agrees too.
    alone = embeddings.get_embedder(embeddings.MINILM_ID).embed([TEXTS[0]])[0]
    assert float(alone @ reference[0]) >= 0.999


def test_query_vectors_are_cached_per_model_and_text() -> None:
    embeddings._cached_query.cache_clear()
    first = embeddings.embed_query(embeddings.MINILM_ID, "where do walruses sleep?")
    first[:] = 0  # callers get their own copy: this must not reach the cache
    second = embeddings.embed_query(embeddings.MINILM_ID, "where do walruses sleep?")
    info = embeddings._cached_query.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert abs(float(np.linalg.norm(second)) - 1.0) < 1e-4
    other = embeddings.embed_query(embeddings.USE_ID, "where do walruses sleep?")
    assert other.shape == (512,)
    assert embeddings._cached_query.cache_info().misses == 2


def test_a_failed_export_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A child that cannot import the exporter fails; the error carries its output.
    monkeypatch.setattr(onnx_minilm.sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match="Exporting all-MiniLM-L6-v2 to ONNX failed"):
        onnx_minilm.ensure_exported(tmp_path / "models")
    assert not any((tmp_path / "models").glob("*.onnx"))


_WEB_PROCESS = textwrap.dedent(
    """
    import json, sys, threading
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    import ragsite.asgi  # what Daphne imports; it starts the model warm-up thread

    for thread in threading.enumerate():
        if thread.name == "model-warm-up":
            thread.join(120)

    async def post(path, body, key):
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 5000),
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                        (b"authorization", b"Bearer " + key.encode())],
        }
        app = ApplicationCommunicator(ragsite.asgi.application, scope)
        await app.send_input({"type": "http.request", "body": json.dumps(body).encode()})
        start = await app.receive_output(60)
        content = await app.receive_output(60)
        return start["status"], json.loads(content["body"])

    status, answer = async_to_sync(post)(
        "/api/v1/retrieval",
        {"question": sys.argv[2], "dataset_ids": [sys.argv[3]]},
        sys.argv[1],
    )
    heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
    print(json.dumps({"status": status, "answer": answer, "heavy": heavy}))
    """
)


@pytest.mark.slow
def test_the_web_process_does_not_import_torch(
    transactional_db: None, api: Any, api_key: str, valkey_url: str, tmp_path: Path
) -> None:
    from tests.conftest import live_env

    dataset = api.post("/api/v1/datasets", {"name": "walruses"}).json()["data"]
    part = io.BytesIO(b"placeholder")
    part.name = "w.txt"
    uploaded = api.client.post(
        f"/api/v1/datasets/{dataset['id']}/documents", {"file": [part]}, headers=api.headers
    ).json()
    assert uploaded["code"] == 0, uploaded
    chunk = api.post(
        f"/api/v1/datasets/{dataset['id']}/documents/{uploaded['data'][0]['id']}/chunks",
        {"content": "Walruses sleep on the ice floes of Svalbard."},
    ).json()
    assert chunk["code"] == 0, chunk
    env = live_env(tmp_path, valkey_url, RAGSITE_PRELOAD_MODELS="true")
    done = subprocess.run(
        [sys.executable, "-c", _WEB_PROCESS, api_key, "where do walruses sleep?", dataset["id"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and result["answer"]["code"] == 0, result
    assert result["answer"]["data"]["chunks"][0]["content"].startswith("Walruses sleep")
    assert result["heavy"] == []


def test_length_batches_cover_every_text_once_with_little_padding() -> None:
    lengths = [180, 4, 185, 60, 190, 178, 9, 181, 58, 12, 183, 150]
    batches = onnx_minilm.length_batches(lengths, batch_size=3)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= 3
        width = lengths[batch[0]]  # the first text is the longest: the batch's padded width
        assert all(width - lengths[i] <= max(onnx_minilm.PAD_SLACK, width // 10) for i in batch)
    # Longest first; 150 is too much shorter than 181 to share its batch, 4 pads to 12.
    assert batches == [[4, 2, 10], [7, 0, 5], [11], [3, 8], [9, 6, 1]]


def test_length_batched_encoding_keeps_the_input_order() -> None:
    # Lengths chosen so that the texts are regrouped: rows must still come back in input order.
    texts = [
        "short",
        "A medium sentence about the 1999 census of walruses on Svalbard and the fjords near it.",
        " ".join(f"word{i}" for i in range(150)),
        "two words",
        " ".join(f"term{i}" for i in range(40)),
        "",
    ]
    model = embeddings.get_embedder(embeddings.MINILM_ID)._model
    together = model.encode(texts)
    alone = np.vstack([model.encode([text]) for text in texts])
    assert together.shape == (len(texts), 384)
    assert float(np.abs(together - alone).max()) < 1e-4


def test_several_threads_embed_batches_in_parallel_with_the_same_vectors() -> None:
    texts = [
        " ".join(f"word{i}" for i in range(n)) for n in (150, 3, 90, 151, 12, 0, 149, 40, 88, 7)
    ]
    path = onnx_minilm.ensure_exported(embeddings.model_cache_dir())
    one = onnx_minilm.OnnxMiniLM(path, threads=1, batch_size=16).encode(texts)
    two = onnx_minilm.OnnxMiniLM(path, threads=2, batch_size=16)
    parallel = two.encode(texts)
    assert parallel.shape == (len(texts), 384)
    assert float(np.abs(parallel - one).max()) < 1e-4  # same rows, in input order
    first_pool = two._pool
    assert first_pool is not None and first_pool._max_workers == 2
    # In a forked child (a Celery pool process) the parent's threads are gone: a new pool.
    two._pool_pid = -1
    assert float(np.abs(two.encode(texts) - one).max()) < 1e-4
    assert two._pool is not first_pool
