"""Chat assistants and their sessions in Django admin.

Edits go through the services (`chat_update`, `session_update`, `chat_delete`,
`session_delete`), so admin checks what the API and the pages check: datasets the owner can
search, a chat model that exists, a unique name. Conversations are shown, never edited.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, F, Func, IntegerField, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_delete, chat_update
from chat.services.sessions import SessionChanges, session_delete, session_update
from ragsite.api.errors import ServiceError


def conversation_html(messages: Any) -> SafeString:
    """A session's messages as read-only text: role, then content, escaped."""
    if not isinstance(messages, list) or not messages:
        return format_html("<p>{}</p>", _("No messages."))
    rows = (
        (str(m.get("role", "?")), str(m.get("content", "")))
        if isinstance(m, dict)
        else ("?", json.dumps(m, ensure_ascii=False))
        for m in messages
    )
    return format_html_join(
        "",
        '<div style="margin-bottom:.75em"><strong>{}</strong>'
        '<div style="white-space:pre-wrap">{}</div></div>',
        rows,
    )


def json_html(value: Any) -> SafeString:
    return format_html(
        '<pre style="white-space:pre-wrap">{}</pre>',
        json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True),
    )


def message_count() -> Func:
    return Func(F("messages"), function="jsonb_array_length", output_field=IntegerField())


class ChatAdminForm(forms.ModelForm):
    """Changes a chat through `chat_update`; its refusals show as form errors. Like the
    knowledge admin forms, the service writes when the form is cleaned."""

    class Meta:
        model = Chat
        fields = ("name", "description", "dataset_ids", "llm_id", "top_n", "rerank_id")
        help_texts = {
            "dataset_ids": _("A JSON list of knowledge base ids the owner can search."),
            "llm_id": _("Empty: the default chat model."),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or self.instance.pk is None:
            return cleaned
        changed = set(self.changed_data)

        def sent(key: str) -> Any:
            return cleaned.get(key) if key in changed else None

        dataset_ids = sent("dataset_ids")
        if dataset_ids is not None and not (
            isinstance(dataset_ids, list) and all(isinstance(i, str) for i in dataset_ids)
        ):
            raise forms.ValidationError({"dataset_ids": _("A JSON list of strings.")})
        changes = ChatChanges(
            name=sent("name"),
            description=sent("description"),
            dataset_ids=dataset_ids,
            llm_id=sent("llm_id"),
            top_n=sent("top_n"),
            rerank_id=sent("rerank_id"),
        )
        if changes == ChatChanges():
            return cleaned
        try:
            chat_update(tenant=self.instance.tenant, chat_id=self.instance.pk, changes=changes)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    form = ChatAdminForm
    list_display = (
        "name",
        "tenant",
        "live",
        "llm_id",
        "dataset_count",
        "session_count",
        "created_at",
        "updated_at",
    )
    list_filter = ("status", "llm_id", "created_at")
    search_fields = ("name", "description", "id", "tenant__username")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "tenant",
        "status",
        "similarity_threshold",
        "vector_similarity_weight",
        "top_k",
        "settings",
        "prompt",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        return super().get_queryset(request).annotate(sessions_total=Count("sessions"))

    @admin.display(boolean=True, description=_("live"), ordering="status")
    def live(self, obj: Chat) -> bool:
        return obj.status == "1"

    @admin.display(description=_("datasets"))
    def dataset_count(self, obj: Chat) -> int:
        return len(obj.dataset_ids or [])

    @admin.display(description=_("sessions"), ordering="sessions_total")
    def session_count(self, obj: Chat) -> int:
        return getattr(obj, "sessions_total", 0)

    @admin.display(description=_("model settings"))
    def settings(self, obj: Chat) -> SafeString:
        return json_html(obj.llm_setting)

    @admin.display(description=_("prompt"))
    def prompt(self, obj: Chat) -> SafeString:
        return json_html(obj.prompt_config)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a chat has an owner: it is created on the Chats page or through the API

    def has_change_permission(self, request: HttpRequest, obj: Chat | None = None) -> bool:
        # A deleted chat (RAGFlow soft-deletes) can be looked at, not changed.
        if obj is not None and obj.status != "1":
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Chat, form: Any, change: bool) -> None:
        obj.refresh_from_db()  # ChatAdminForm.clean() already saved through the service

    # Deleting is RAGFlow's soft delete, as for the owner: the chat's name becomes free again.
    def delete_model(self, request: HttpRequest, obj: Chat) -> None:
        chat_delete(tenant=obj.tenant, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> None:
        for chat in queryset.select_related("tenant"):
            chat_delete(tenant=chat.tenant, ids=[chat.pk])


class ChatSessionAdminForm(forms.ModelForm):
    """Renames (or re-assigns) a session through `session_update`."""

    class Meta:
        model = ChatSession
        fields = ("name", "user_id")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or self.instance.pk is None:
            return cleaned
        changed = set(self.changed_data)
        changes = SessionChanges(
            name=cleaned.get("name") if "name" in changed else None,
            user_id=cleaned.get("user_id") if "user_id" in changed else None,
        )
        if changes == SessionChanges():
            return cleaned
        try:
            session_update(chat=self.instance.chat, session_id=self.instance.pk, changes=changes)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    form = ChatSessionAdminForm
    list_display = (
        "name",
        "chat",
        "owner",
        "user_id",
        "messages_total",
        "created_at",
        "updated_at",
    )
    list_filter = ("created_at", "updated_at", "chat__status")
    search_fields = ("name", "id", "user_id", "chat__name", "chat__tenant__username")
    list_select_related = ("chat", "chat__tenant")
    date_hierarchy = "created_at"
    readonly_fields = ("id", "chat", "owner", "conversation", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatSession]:
        return super().get_queryset(request).annotate(message_total=message_count())

    @admin.display(description=_("owner"), ordering="chat__tenant__username")
    def owner(self, obj: ChatSession) -> str:
        return str(obj.chat.tenant)

    @admin.display(description=_("messages"), ordering="message_total")
    def messages_total(self, obj: ChatSession) -> int:
        return getattr(obj, "message_total", 0)

    @admin.display(description=_("conversation"))
    def conversation(self, obj: ChatSession) -> SafeString:
        return conversation_html(obj.messages)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions start in a chat

    def save_model(self, request: HttpRequest, obj: ChatSession, form: Any, change: bool) -> None:
        obj.refresh_from_db()  # ChatSessionAdminForm.clean() already saved through the service

    def delete_model(self, request: HttpRequest, obj: ChatSession) -> None:
        session_delete(chat=obj.chat, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ChatSession]) -> None:
        for session in queryset.select_related("chat"):
            session_delete(chat=session.chat, ids=[session.pk])
