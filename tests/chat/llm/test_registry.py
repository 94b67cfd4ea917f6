"""Chat model ids: the built-in default and the models of configured providers."""

from __future__ import annotations

from typing import Any

import pytest

from chat.llm import ChatModelError
from chat.llm.extractive import ExtractiveChatModel
from chat.llm.openai_compat import OpenAICompatibleChatModel
from chat.llm.registry import (
    BUILTIN_EXTRACTIVE,
    chat_model_choices,
    chat_model_exists,
    default_chat_model_id,
    get_chat_model,
)
from knowledge.models import ModelProvider


@pytest.fixture
def ollama(db: None) -> ModelProvider:
    return ModelProvider.objects.create(
        factory="Ollama",
        base_url="http://localhost:11434/v1",
        api_key="sk-local",
        chat_models="qwen2.5\nllama3.1:8b\n",
        embedding_models="bge-m3",
        timeout_seconds=30,
    )


def test_the_builtin_extractive_model_is_the_default(settings: Any) -> None:
    del settings.RAGSITE_DEFAULT_CHAT_MODEL  # as on a fresh install
    assert BUILTIN_EXTRACTIVE == "ragsite-extractive@Builtin"
    assert default_chat_model_id() == BUILTIN_EXTRACTIVE
    for model_id in (None, "", BUILTIN_EXTRACTIVE):
        model = get_chat_model(model_id)
        assert isinstance(model, ExtractiveChatModel)
        assert model.model_id == BUILTIN_EXTRACTIVE and model.extractive


def test_the_default_follows_the_setting(settings: Any, ollama: ModelProvider) -> None:
    settings.RAGSITE_DEFAULT_CHAT_MODEL = "qwen2.5@Ollama"
    assert default_chat_model_id() == "qwen2.5@Ollama"
    assert get_chat_model(None).model_id == "qwen2.5@Ollama"


def test_the_builtin_exists_without_the_database() -> None:
    assert chat_model_exists(BUILTIN_EXTRACTIVE)


def test_provider_models_resolve_with_the_provider_config(ollama: ModelProvider) -> None:
    assert chat_model_exists("qwen2.5@Ollama")
    assert chat_model_exists("llama3.1:8b@Ollama")
    model = get_chat_model("llama3.1:8b@Ollama")
    assert isinstance(model, OpenAICompatibleChatModel)
    assert model.model_id == "llama3.1:8b@Ollama" and model.model_name == "llama3.1:8b"
    assert model.base_url == "http://localhost:11434/v1"
    assert model.timeout == 30
    assert not model.extractive


def test_choices_list_the_builtin_first_then_provider_models(ollama: ModelProvider) -> None:
    ModelProvider.objects.create(
        factory="Off", base_url="http://off.example/v1", chat_models="hidden", enabled=False
    )
    choices = chat_model_choices()
    ids = [model_id for model_id, _label in choices]
    assert ids == [BUILTIN_EXTRACTIVE, "qwen2.5@Ollama", "llama3.1:8b@Ollama"]
    assert "(extractive, offline)" in choices[0][1]
    assert all("extractive" not in label for _id, label in choices[1:])


@pytest.mark.parametrize(
    "model_id",
    [
        "gpt-4o@Ollama",  # provider known, model not listed
        "bge-m3@Ollama",  # an embedding model, not a chat model
        "qwen2.5@OpenAI",  # no such provider
        "qwen2.5",  # no factory
        "other@Builtin",
    ],
)
def test_unknown_models_do_not_exist(ollama: ModelProvider, model_id: str) -> None:
    assert not chat_model_exists(model_id)
    with pytest.raises(ChatModelError) as caught:
        get_chat_model(model_id)
    assert caught.value.message == f"The chat model {model_id} is not configured."


def test_a_disabled_provider_serves_no_models(ollama: ModelProvider) -> None:
    ollama.enabled = False
    ollama.save()
    assert not chat_model_exists("qwen2.5@Ollama")
    assert [model_id for model_id, _ in chat_model_choices()] == [BUILTIN_EXTRACTIVE]
    with pytest.raises(ChatModelError, match="not configured"):
        get_chat_model("qwen2.5@Ollama")
