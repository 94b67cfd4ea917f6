"""Which chat model a dataset's enrichment uses, or a sentence saying what to configure.

In order: the dataset's own `llm_id`; RAGSITE_ENRICHMENT_CHAT_MODEL; RAGSITE_DEFAULT_CHAT_MODEL
when it names a provider's model; the first chat model of the first enabled provider. The
built-in extractive model only quotes passages, so it cannot write keywords or summaries.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext

from knowledge.enrichment.llm import ChatModelConfig
from knowledge.model_registry import provider_for
from knowledge.models import Dataset, ModelProvider


class NoChatModel(Exception):
    """No usable chat model; `message` says what to configure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def no_chat_model_message() -> str:
    return gettext(
        "LLM enrichment (auto keywords and questions, RAPTOR, knowledge graph) needs a chat "
        "model: configure an OpenAI-compatible provider (Ollama, vLLM or any such service) with "
        "a chat model under Admin → Model providers, then choose it in the dataset's settings "
        "or set RAGSITE_ENRICHMENT_CHAT_MODEL."
    )


def _config(model_id: str) -> ChatModelConfig | None:
    provider = provider_for(model_id, "chat")
    if provider is None:
        return None
    return ChatModelConfig(
        model_id=model_id,
        base_url=provider.base_url,
        api_key=provider.api_key,
        timeout=provider.timeout_seconds,
    )


def enrichment_model_choices() -> list[tuple[str, str]]:
    """(id, label) of the providers' chat models, for the dataset settings form."""
    choices = []
    for provider in ModelProvider.objects.filter(enabled=True).order_by("factory"):
        for name in provider.chat_model_names():
            choices.append((f"{name}@{provider.factory}", f"{name} ({provider.factory})"))
    return choices


def resolve_chat_model(dataset: Dataset) -> ChatModelConfig:
    """The chat model for `dataset`'s enrichment; NoChatModel when none is usable."""
    if dataset.llm_id:
        config = _config(dataset.llm_id)
        if config is None:
            raise NoChatModel(
                gettext(
                    "The dataset's chat model %(model)s is not configured or its provider is "
                    "disabled: check Admin → Model providers, or choose another chat model in "
                    "the dataset's settings."
                )
                % {"model": dataset.llm_id}
            )
        return config
    for model_id in (settings.RAGSITE_ENRICHMENT_CHAT_MODEL, settings.RAGSITE_DEFAULT_CHAT_MODEL):
        if model_id and (config := _config(model_id)) is not None:
            return config
    choices = enrichment_model_choices()
    if choices:
        config = _config(choices[0][0])
        if config is not None:
            return config
    raise NoChatModel(no_chat_model_message())


def chat_model_problem(dataset: Dataset) -> str | None:
    """None when enrichment can run for `dataset`, else what to configure."""
    try:
        resolve_chat_model(dataset)
    except NoChatModel as exc:
        return exc.message
    return None
