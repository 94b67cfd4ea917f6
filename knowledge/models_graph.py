"""A dataset's knowledge graph: entities, relations and communities with their reports.

Everything belongs to one dataset and its tenant and goes with the dataset. Entity names are
stored upper-cased, as RAGFlow keys its graph nodes; a relation is undirected, its ends stored
in sorted order. A build replaces all three at once (knowledge.services.graph); the chat
model's answers it was built from are kept per dataset by the enrichment session, so a build
that stopped resumes without asking again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from ragsite.ids import new_id


class GraphEntity(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="graph_entities"
    )
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graph_entities"
    )
    name = models.CharField(_("name"), max_length=200)
    entity_type = models.CharField(_("type"), max_length=64)
    description = models.TextField(_("description"), blank=True, default="")
    chunk_ids = models.JSONField(default=list, blank=True)
    document_ids = models.JSONField(default=list, blank=True)
    pagerank = models.FloatField(default=0.0)
    # The number of relations (RAGFlow's `rank`).
    degree = models.PositiveIntegerField(default=0)
    communities = models.JSONField(default=list, blank=True)
    # Name and description, embedded with the dataset's model (untyped, like Chunk.embedding).
    embedding = VectorField(null=True, blank=True)
    embedding_dim = models.PositiveSmallIntegerField(default=0)
    # jieba-segmented name and description, for keyword matching (`simple` configuration).
    search_vector = SearchVectorField(null=True, blank=True)

    class Meta:
        app_label = "knowledge"
        ordering = ["-pagerank", "name"]
        verbose_name = _("graph entity")
        verbose_name_plural = _("graph entities")
        constraints = [
            models.UniqueConstraint("dataset", "name", name="graphentity_unique_name"),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="graphentity_search_gin")]

    def __str__(self) -> str:
        return self.name


class GraphRelation(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="graph_relations"
    )
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graph_relations"
    )
    source = models.CharField(max_length=200)
    target = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    keywords = models.JSONField(default=list, blank=True)
    weight = models.FloatField(default=1.0)
    chunk_ids = models.JSONField(default=list, blank=True)
    document_ids = models.JSONField(default=list, blank=True)

    class Meta:
        app_label = "knowledge"
        ordering = ["-weight", "source", "target"]
        verbose_name = _("graph relation")
        verbose_name_plural = _("graph relations")
        constraints = [
            models.UniqueConstraint(
                "dataset", "source", "target", name="graphrelation_unique_pair"
            ),
        ]
        indexes = [
            models.Index(fields=["dataset", "source"], name="graphrelation_source"),
            models.Index(fields=["dataset", "target"], name="graphrelation_target"),
        ]

    def __str__(self) -> str:
        return f"{self.source} — {self.target}"


class GraphCommunity(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="graph_communities"
    )
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="graph_communities"
    )
    title = models.CharField(max_length=500)
    report = models.TextField(blank=True, default="")
    findings = models.JSONField(default=list, blank=True)
    rating = models.FloatField(default=0.0)
    # RAGFlow's `weight_flt`: the share of the graph's chunks behind the community (0..1).
    weight = models.FloatField(default=0.0)
    entities = models.JSONField(default=list, blank=True)

    class Meta:
        app_label = "knowledge"
        ordering = ["-weight", "title"]
        verbose_name = _("graph community")
        verbose_name_plural = _("graph communities")

    def __str__(self) -> str:
        return self.title
