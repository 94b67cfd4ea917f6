"""Embedding models: the bundled ones for real, OpenAI-compatible ones against a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from knowledge import embeddings, model_registry
from knowledge.models import ModelProvider
from ragsite.api.errors import ArgumentError


def test_minilm_ranks_a_paraphrase_above_an_unrelated_sentence() -> None:
    vectors = embeddings.embed_texts(
        embeddings.MINILM_ID,
        [
            "How many walruses live on the island?",
            "The walrus population of the island",
            "Tax forms are due in April",
        ],
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_long_passages_are_embedded_in_windows() -> None:
    long_text = " ".join(f"word{i}" for i in range(700))
    assert len(embeddings.text_windows(long_text)) == 5
    assert len(embeddings.text_windows("知识库" * 300)) == 5
    (vector,) = embeddings.embed_texts(embeddings.MINILM_ID, [long_text])
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4


def test_multilingual_model_matches_chinese_and_english() -> None:
    vectors = embeddings.embed_texts(
        embeddings.USE_ID, ["我忘记了登录密码", "I forgot my login password", "海象在岛上晒太阳"]
    )
    assert vectors.shape == (3, 512)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_embedding_progress_is_reported_per_batch() -> None:
    seen: list[tuple[int, int]] = []
    embeddings.embed_texts(
        embeddings.USE_ID,
        [f"text {i}" for i in range(20)],
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(16, 20), (20, 20)]


# --- OpenAI-compatible providers ------------------------------------------------------------


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: list[dict] = []
    fail = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
        )
        if type(self).fail:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"model not loaded")
            return
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text)), 1.0, 0.0]}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps(
            {"object": "list", "data": data[::-1], "model": body["model"]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def embedding_server() -> Iterator[str]:
    _EmbeddingsHandler.requests = []
    _EmbeddingsHandler.fail = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def provider(db: None, embedding_server: str) -> ModelProvider:
    return ModelProvider.objects.create(
        factory="LocalAI",
        base_url=embedding_server,
        api_key="sk-local",
        embedding_models="bge-m3\nnomic-embed",
    )


def test_openai_compatible_embeddings(provider: ModelProvider) -> None:
    vectors = embeddings.embed_texts("bge-m3@LocalAI", ["a", "abcd"])
    (request,) = _EmbeddingsHandler.requests
    assert request["path"] == "/v1/embeddings" and request["auth"] == "Bearer sk-local"
    assert request["body"] == {"model": "bge-m3", "input": ["a", "abcd"]}
    # The answer came back out of order; rows follow `index`, normalised.
    expected = np.array([[1.0, 1.0, 0.0], [4.0, 1.0, 0.0]])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected)


def test_provider_errors_become_readable_messages(provider: ModelProvider) -> None:
    _EmbeddingsHandler.fail = True
    with pytest.raises(embeddings.EmbeddingError, match="HTTP 500: model not loaded"):
        embeddings.embed_texts("bge-m3@LocalAI", ["a"])
    provider.base_url = "http://127.0.0.1:9/v1"
    provider.save()
    with pytest.raises(embeddings.EmbeddingError, match="unreachable"):
        embeddings.embed_texts("bge-m3@LocalAI", ["a"])


def test_registry_knows_configured_models(provider: ModelProvider) -> None:
    assert model_registry.embedding_model_check("bge-m3@LocalAI").name == "bge-m3"
    ids = [info.id for info in model_registry.embedding_models_for_choice()]
    assert ids[:2] == [embeddings.MINILM_ID, embeddings.USE_ID]
    assert {"bge-m3@LocalAI", "nomic-embed@LocalAI"} <= set(ids)
    with pytest.raises(ArgumentError, match=r"Unauthorized model: <other@LocalAI>"):
        model_registry.embedding_model_check("other@LocalAI")
    provider.enabled = False
    provider.save()
    with pytest.raises(ArgumentError, match=r"Unauthorized model: <bge-m3@LocalAI>"):
        model_registry.embedding_model_check("bge-m3@LocalAI")


def test_a_dataset_can_use_a_configured_model(api, provider: ModelProvider) -> None:
    from tests.helpers import assert_ok

    data = assert_ok(
        api.post("/api/v1/datasets", {"name": "kb", "embedding_model": "bge-m3@LocalAI"})
    )
    assert data["embedding_model"] == "bge-m3@LocalAI"


def test_unknown_model_cannot_be_loaded(db: None) -> None:
    with pytest.raises(embeddings.EmbeddingError, match="not available"):
        embeddings.get_embedder("ghost@Nowhere")
