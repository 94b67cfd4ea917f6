"""Which chat models exist and how to get one by its `name@factory` id.

Everything here is sync because it reads `ModelProvider` rows: call it from views, or through
`database_sync_to_async` from a coroutine. The models it returns are async and hold no ORM state.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext

from chat.llm.base import ChatModel, ChatModelError
from chat.llm.extractive import MODEL_ID as _EXTRACTIVE_ID
from chat.llm.extractive import ExtractiveChatModel
from chat.llm.openai_compat import OpenAICompatibleChatModel
from knowledge.model_registry import provider_for
from knowledge.models import ModelProvider

BUILTIN_EXTRACTIVE = _EXTRACTIVE_ID  # "ragsite-extractive@Builtin"


def default_chat_model_id() -> str:
    """The chat model used when a chat names none."""
    return getattr(settings, "RAGSITE_DEFAULT_CHAT_MODEL", BUILTIN_EXTRACTIVE) or BUILTIN_EXTRACTIVE


def chat_model_exists(model_id: str) -> bool:
    """True for the built-in model and for chat models of enabled providers."""
    return model_id == BUILTIN_EXTRACTIVE or provider_for(model_id, "chat") is not None


def chat_model_choices() -> list[tuple[str, str]]:
    """(id, label) pairs for a model select: the built-in model first, then providers' models."""
    name = BUILTIN_EXTRACTIVE.rsplit("@", 1)[0]
    choices = [(BUILTIN_EXTRACTIVE, gettext("%(name)s (extractive, offline)") % {"name": name})]
    for provider in ModelProvider.objects.filter(enabled=True).order_by("factory"):
        for model_name in provider.chat_model_names():
            choices.append(
                (f"{model_name}@{provider.factory}", f"{model_name} ({provider.factory})")
            )
    return choices


def get_chat_model(model_id: str | None) -> ChatModel:
    """The model for `model_id` (the default for None or ""); ChatModelError if unknown."""
    model_id = model_id or default_chat_model_id()
    if model_id == BUILTIN_EXTRACTIVE:
        return ExtractiveChatModel()
    provider = provider_for(model_id, "chat")
    if provider is None:
        raise ChatModelError(f"The chat model {model_id} is not configured.")
    return OpenAICompatibleChatModel(
        model_id,
        base_url=provider.base_url,
        api_key=provider.api_key,
        timeout=provider.timeout_seconds,
    )
