"""Agents and their sessions in Django admin.

An agent is changed through `agent_update`, so a new DSL is checked as the API checks it (it
must run and may name only datasets the owner can search) and titles stay unique per owner.
Sessions run on their own copy of the DSL; admin shows them and can delete them, nothing more.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from agents.models import Agent, AgentSession
from agents.services.agents import AgentChanges, agent_delete, agent_update, session_delete
from chat.admin import conversation_html, json_html, message_count
from ragsite.api.errors import ServiceError


class AgentAdminForm(forms.ModelForm):
    """Changes an agent through `agent_update`; its refusals show as form errors. The service
    writes when the form is cleaned, as in the other admin forms."""

    class Meta:
        model = Agent
        fields = ("title", "description", "dsl")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or self.instance.pk is None:
            return cleaned
        changed = set(self.changed_data)
        dsl = cleaned.get("dsl") if "dsl" in changed else None
        if dsl is not None and not isinstance(dsl, dict):
            raise forms.ValidationError({"dsl": _("The DSL must be a JSON object.")})
        changes = AgentChanges(
            title=cleaned.get("title") if "title" in changed else None,
            description=(cleaned.get("description") or "") if "description" in changed else None,
            dsl=dsl,
        )
        if changes == AgentChanges():
            return cleaned
        try:
            agent_update(tenant=self.instance.tenant, agent_id=self.instance.pk, changes=changes)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from exc
        return cleaned


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = (
        "title",
        "tenant",
        "canvas_category",
        "published_at",
        "session_count",
        "created_at",
        "updated_at",
    )
    list_filter = ("canvas_category", "canvas_type", "published_at", "updated_at")
    search_fields = ("title", "description", "id", "tenant__username")
    list_select_related = ("tenant",)
    date_hierarchy = "updated_at"
    readonly_fields = (
        "id",
        "tenant",
        "canvas_type",
        "canvas_category",
        "published_at",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).annotate(sessions_total=Count("sessions"))

    @admin.display(description=_("sessions"), ordering="sessions_total")
    def session_count(self, obj: Agent) -> int:
        return getattr(obj, "sessions_total", 0)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an agent has an owner: it is created on the Agents page or the API

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        obj.refresh_from_db()  # AgentAdminForm.clean() already saved through the service

    # Through the service: the agent goes, its sessions stay (as in RAGFlow).
    def delete_model(self, request: HttpRequest, obj: Agent) -> None:
        agent_delete(tenant=obj.tenant, agent_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        for agent in queryset.select_related("tenant"):
            agent_delete(tenant=agent.tenant, agent_id=agent.pk)


@admin.register(AgentSession)
class AgentSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "agent_title",
        "tenant",
        "user_id",
        "round",
        "messages_total",
        "has_errors",
        "updated_at",
    )
    list_filter = ("created_at", "updated_at")
    search_fields = ("id", "name", "user_id", "agent_key", "agent__title", "tenant__username")
    list_select_related = ("agent", "tenant")
    date_hierarchy = "updated_at"
    fields = (
        "id",
        "name",
        "agent_title",
        "agent_key",
        "tenant",
        "user_id",
        "round",
        "duration",
        "errors",
        "conversation",
        "session_dsl",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentSession]:
        return super().get_queryset(request).annotate(message_total=message_count())

    @admin.display(description=_("agent"), ordering="agent__title")
    def agent_title(self, obj: AgentSession) -> str:
        # Sessions outlive their agent (RAGFlow keeps them).
        return obj.agent.title if obj.agent else _("(deleted agent %(id)s)") % {"id": obj.agent_key}

    @admin.display(description=_("messages"), ordering="message_total")
    def messages_total(self, obj: AgentSession) -> int:
        return getattr(obj, "message_total", 0)

    @admin.display(boolean=True, description=_("errors"))
    def has_errors(self, obj: AgentSession) -> bool:
        return bool(obj.errors)

    @admin.display(description=_("conversation"))
    def conversation(self, obj: AgentSession) -> SafeString:
        return conversation_html(obj.messages)

    @admin.display(description=_("DSL of this session"))
    def session_dsl(self, obj: AgentSession) -> SafeString:
        return json_html(obj.dsl)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sessions start when someone talks to an agent

    def has_change_permission(self, request: HttpRequest, obj: AgentSession | None = None) -> bool:
        return False  # a record of a conversation; there is no service that edits one

    def delete_model(self, request: HttpRequest, obj: AgentSession) -> None:
        session_delete(agent_id=obj.agent_key, tenant=obj.tenant, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AgentSession]) -> None:
        for session in queryset.select_related("tenant"):
            session_delete(agent_id=session.agent_key, tenant=session.tenant, ids=[session.pk])
