"""Rerank models served over HTTP (TEI, Jina, Cohere-style `/rerank` APIs) by configured providers."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx

from knowledge import model_registry
from ragsite.api.errors import DataError


class RerankError(Exception):
    """The rerank service failed; the message is meant for the API caller."""


def _scores_from(payload: object, count: int) -> list[float]:
    # Jina/Cohere: {"results": [{"index", "relevance_score"}]}; TEI: [{"index", "score"}].
    items = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise RerankError("The rerank service's answer has no results list.")
    scores = [0.0] * count
    for item in items:
        score = item.get("relevance_score", item.get("score"))
        scores[int(item["index"])] = float(score)
    if any(s < 0 or s > 1 for s in scores):
        # Raw logits (TEI without normalisation): squash into 0..1 like RAGFlow's scores.
        scores = [1 / (1 + math.exp(-s)) for s in scores]
    return scores


def get_reranker(rerank_id: str) -> Callable[[str, list[str]], list[float]]:
    """A function scoring texts against a query in 0..1; 102 if the model is not configured."""
    provider = model_registry.provider_for(rerank_id, "rerank")
    if provider is None:
        raise DataError(f"`rerank_id` {rerank_id} is not a configured rerank model.")
    name = rerank_id.rsplit("@", 1)[0]
    url = provider.base_url.rstrip("/") + "/rerank"
    headers = {"Authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}

    def rerank(query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        body = {
            "model": name,
            "query": query,
            "documents": texts,
            "texts": texts,
            "top_n": len(texts),
        }
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=provider.timeout_seconds)
        except httpx.HTTPError as exc:
            raise RerankError(f"The rerank service at {url} is unreachable: {exc}") from exc
        if response.status_code != 200:
            raise RerankError(
                f"The rerank service answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            return _scores_from(response.json(), len(texts))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise RerankError("The rerank service's answer could not be read.") from exc

    return rerank
