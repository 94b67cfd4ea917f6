"""Memories (RAGFlow v0.27): named stores of what agents and users said, and what was learnt.

A memory keeps messages: one `raw` message per conversation turn added, and the `semantic`,
`episodic` and `procedural` messages a chat model derives from it (their `source_id` is the
raw message's id). Every message is embedded with the memory's embedding model and segmented
for keyword search, so messages are found by meaning and by words.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from ragsite.ids import new_id

# RAGFlow's MemoryType bit flags, in the order the API lists them.
MEMORY_TYPES = {"raw": 1, "semantic": 2, "episodic": 4, "procedural": 8}
DEFAULT_MEMORY_SIZE = 5 * 1024 * 1024
MEMORY_SIZE_LIMIT = 10 * 1024 * 1024
MEMORY_NAME_LIMIT = 128


def memory_type_names(flags: int) -> list[str]:
    return [name for name, bit in MEMORY_TYPES.items() if flags & bit]


def memory_type_flags(names: list[str]) -> int:
    flags = 0
    for name in names:
        flags |= MEMORY_TYPES.get(name, 0)
    return flags


class Memory(models.Model):
    class Permission(models.TextChoices):
        ME = "me", _("Only me")
        TEAM = "team", _("My teams")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memories"
    )
    name = models.CharField(_("name"), max_length=MEMORY_NAME_LIMIT)
    # RAGFlow reports these as null until set.
    avatar = models.TextField(null=True, blank=True)  # noqa: DJ001
    description = models.TextField(_("description"), null=True, blank=True)  # noqa: DJ001
    memory_type = models.PositiveSmallIntegerField(_("memory types"), default=1)
    storage_type = models.CharField(max_length=16, default="table")
    embd_id = models.CharField(_("embedding model"), max_length=255)
    llm_id = models.CharField(_("chat model"), max_length=255)
    permissions = models.CharField(
        _("permission"), max_length=16, choices=Permission.choices, default=Permission.ME
    )
    memory_size = models.BigIntegerField(_("size limit (bytes)"), default=DEFAULT_MEMORY_SIZE)
    forgetting_policy = models.CharField(_("forgetting policy"), max_length=16, default="FIFO")
    temperature = models.FloatField(_("temperature"), default=0.5)
    system_prompt = models.TextField(_("system prompt"), blank=True, default="")
    user_prompt = models.TextField(_("user prompt"), null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("memory")
        verbose_name_plural = _("memories")
        constraints = [
            models.UniqueConstraint("tenant", "name", name="memory_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def type_names(self) -> list[str]:
        return memory_type_names(self.memory_type)


class MemoryMessage(models.Model):
    """One message of a memory; `message_id` is unique server-wide, as RAGFlow's are."""

    message_id = models.BigAutoField(primary_key=True)
    memory = models.ForeignKey(Memory, on_delete=models.CASCADE, related_name="messages")
    message_type = models.CharField(max_length=16, default="raw")
    # The raw message a derived one was extracted from; null on raw messages.
    source_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    user_id = models.CharField(max_length=255, blank=True, default="")
    agent_id = models.CharField(max_length=255, blank=True, default="")
    session_id = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField()
    content_ltks = models.TextField(blank=True, default="")
    search_vector = SearchVectorField(null=True, blank=True)
    embedding = VectorField(null=True, blank=True)
    embedding_dim = models.PositiveSmallIntegerField(default=0)
    # What the message counts against the memory's size limit: content bytes + 8 per dimension.
    size = models.PositiveIntegerField(default=0)
    valid_at = models.DateTimeField(db_index=True)
    invalid_at = models.DateTimeField(null=True, blank=True)
    forget_at = models.DateTimeField(null=True, blank=True)
    status = models.BooleanField(default=True)
    # Raw messages only: the extraction task's progress (RAGFlow's task row), -1 on failure.
    task_progress = models.FloatField(null=True, blank=True)
    task_log = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-valid_at", "-message_id"]
        verbose_name = _("memory message")
        verbose_name_plural = _("memory messages")
        indexes = [
            GinIndex(fields=["search_vector"], name="memory_message_search_gin"),
            models.Index(fields=["memory", "valid_at"], name="memory_message_valid_at"),
        ]

    def __str__(self) -> str:
        return f"{self.memory_id}:{self.message_id}"
