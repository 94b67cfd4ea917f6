"""Datasets (knowledge bases). Documents and chunks arrive with the ingestion issue."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id


class Dataset(models.Model):
    """A knowledge base. Stored under ragsite's names, reported under RAGFlow's (see serializers)."""

    class Permission(models.TextChoices):
        ME = "me", _("Only me")
        TEAM = "team", _("My teams")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(_("name"), max_length=255)
    # RAGFlow reports an unset avatar/description as null, distinct from "".
    avatar = models.TextField(_("avatar"), null=True, blank=True)  # noqa: DJ001
    description = models.TextField(_("description"), null=True, blank=True)  # noqa: DJ001
    language = models.CharField(_("language"), max_length=32, default="English")
    embedding_model = models.CharField(_("embedding model"), max_length=255)
    permission = models.CharField(
        _("permission"), max_length=16, choices=Permission.choices, default=Permission.ME
    )
    chunk_method = models.CharField(_("chunk method"), max_length=32, default="naive")
    parser_config = models.JSONField(_("parser config"), default=dict, blank=True)
    pagerank = models.PositiveSmallIntegerField(_("page rank"), default=0)
    similarity_threshold = models.FloatField(default=0.2)
    vector_similarity_weight = models.FloatField(default=0.3)
    document_count = models.PositiveIntegerField(_("documents"), default=0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    token_count = models.PositiveBigIntegerField(_("tokens"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        constraints = [
            # RAGFlow compares dataset names case-insensitively within a tenant.
            models.UniqueConstraint(Lower("name"), "tenant", name="dataset_name_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name
