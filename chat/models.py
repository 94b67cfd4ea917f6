"""Chat assistants ("dialogs" in RAGFlow) and their sessions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id

DEFAULT_SYSTEM_PROMPT = (
    "You are an intelligent assistant. Please summarize the content of the knowledge base to "
    "answer the question. Please list the data in the knowledge base and answer in detail. When "
    "all knowledge base content is irrelevant to the question, your answer must include the "
    'sentence "The answer you are looking for is not found in the knowledge base!" Answers need '
    "to consider chat history.\n      Here is the knowledge base:\n      {knowledge}\n      The "
    "above is the knowledge base."
)
DEFAULT_OPENER = "Hi! I'm your assistant. What can I do for you?"
DEFAULT_EMPTY_RESPONSE = "Sorry! No relevant content was found in the knowledge base!"
DEFAULT_LLM_SETTING = {
    "temperature": 0.1,
    "top_p": 0.3,
    "frequency_penalty": 0.7,
    "presence_penalty": 0.4,
    "max_tokens": 512,
}


def default_prompt_config() -> dict[str, object]:
    return {
        "system": DEFAULT_SYSTEM_PROMPT,
        "prologue": DEFAULT_OPENER,
        "parameters": [{"key": "knowledge", "optional": False}],
        "quote": True,
        "empty_response": DEFAULT_EMPTY_RESPONSE,
        "tts": False,
        "refine_multiturn": True,
    }


class Chat(models.Model):
    """A chat assistant: datasets, a model, a prompt and retrieval settings."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats"
    )
    name = models.CharField(_("name"), max_length=255)
    avatar = models.TextField(_("avatar"), blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="A helpful Assistant")
    # Ids, not foreign keys: a deleted dataset simply drops out of the chat (contract §2.6).
    dataset_ids = models.JSONField(_("datasets"), default=list, blank=True)
    llm_id = models.CharField(_("chat model"), max_length=255, blank=True, default="")
    llm_setting = models.JSONField(default=dict, blank=True)
    similarity_threshold = models.FloatField(default=0.2)
    # Stored as the API's `keywords_similarity_weight` was sent; reported as 1 − this (RAGFlow).
    vector_similarity_weight = models.FloatField(default=0.3)
    top_n = models.PositiveIntegerField(default=6)
    top_k = models.PositiveIntegerField(default=1024)
    rerank_id = models.CharField(max_length=255, blank=True, default="")
    prompt_config = models.JSONField(default=default_prompt_config, blank=True)
    do_refer = models.CharField(max_length=1, default="1")
    prompt_type = models.CharField(max_length=16, default="simple")
    meta_data_filter = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=32, default="English")
    # "1" live, "0" deleted: RAGFlow soft-deletes chats, so their names become free again.
    status = models.CharField(max_length=1, default="1", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("chat assistant")
        verbose_name_plural = _("chat assistants")
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "tenant", condition=Q(status="1"), name="chat_name_unique_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChatSession(models.Model):
    """A conversation with an assistant: its messages and, per answer, the chunks it cited."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(_("name"), max_length=255, default="New session")
    user_id = models.CharField(max_length=255, blank=True, default="")
    messages = models.JSONField(default=list, blank=True)
    # One entry per assistant answer, in order: the reference object sent with it.
    references = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")

    def __str__(self) -> str:
        return self.name


def default_search_config() -> dict[str, object]:
    """A new search app's configuration (RAGFlow v0.27's `Search.search_config` default)."""
    return {
        "kb_ids": [],
        "doc_ids": [],
        "similarity_threshold": 0.2,
        "vector_similarity_weight": 0.3,
        "use_kg": False,
        "rerank_id": "",
        "top_k": 1024,
        "summary": False,
        "chat_id": "",
        "llm_setting": {
            "temperature": 0.1,
            "top_p": 0.3,
            "frequency_penalty": 0.7,
            "presence_penalty": 0.4,
            "temperature_enabled": True,
            "top_p_enabled": True,
            "frequency_penalty_enabled": True,
            "presence_penalty_enabled": True,
        },
        "chat_settingcross_languages": [],
        "highlight": False,
        "keyword": False,
        "web_search": False,
        "related_search": False,
        "query_mindmap": False,
    }


class SearchApp(models.Model):
    """A search page: datasets to search, ranking settings and an optional answer summary."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_apps"
    )
    name = models.CharField(_("name"), max_length=255)
    avatar = models.TextField(_("avatar"), blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="")
    # RAGFlow's keys as sent (merged one level deep on update); dataset ids, not foreign keys.
    search_config = models.JSONField(default=default_search_config, blank=True)
    status = models.CharField(max_length=1, default="1")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("search app")
        verbose_name_plural = _("search apps")

    def __str__(self) -> str:
        return self.name
