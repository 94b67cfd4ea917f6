"""Agents (RAGFlow "canvases": a DSL of components) and their conversations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id

AGENT_CANVAS = "agent_canvas"


class Agent(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agents"
    )
    title = models.CharField(_("title"), max_length=255)
    # RAGFlow reports these as null until set.
    description = models.TextField(_("description"), null=True, blank=True)  # noqa: DJ001
    avatar = models.TextField(null=True, blank=True)  # noqa: DJ001
    canvas_type = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # RAGFlow v0.27: "agent_canvas" (what ragsite runs) or "dataflow_canvas" (stored only).
    canvas_category = models.CharField(max_length=32, default=AGENT_CANVAS)
    dsl = models.JSONField(_("DSL"), default=dict)
    # When the DSL was last saved with `release: true` (v0.27's last_publish_time).
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        constraints = [
            models.UniqueConstraint("tenant", "title", name="agent_title_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.title


class AgentSession(models.Model):
    """A conversation with an agent; it runs on its own copy of the agent's DSL."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    # Sessions outlive their agent in RAGFlow ("Sessions are not deleted").
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, related_name="sessions")
    agent_key = models.CharField(max_length=32, db_index=True)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_sessions"
    )
    user_id = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    dsl = models.JSONField(default=dict)
    messages = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)
    round = models.PositiveIntegerField(default=0)
    duration = models.FloatField(default=0.0)
    errors = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("agent session")
        verbose_name_plural = _("agent sessions")

    def __str__(self) -> str:
        return self.id


# Memories live in their own module; imported here so Django registers them with this app.
from agents.models_memory import Memory, MemoryMessage  # noqa: E402

__all__ = ["AGENT_CANVAS", "Agent", "AgentSession", "Memory", "MemoryMessage"]
