"""LLM enrichment jobs (RAPTOR, knowledge graphs) and the chat-model answers they keep."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id


class EnrichmentJob(models.Model):
    """One run of an LLM job over a dataset (RAGFlow's task row for raptor/graphrag).

    The worker writes progress, a log, a heartbeat and what it used (calls, tokens) as it
    goes. `generation` is bumped each time the job is (re)queued: a task carrying an older one
    is stale and quits. `checkpoint` is the runner's own record of finished work, so a job
    whose worker died resumes where it stopped.
    """

    class Kind(models.TextChoices):
        RAPTOR = "raptor", _("RAPTOR summaries")
        GRAPHRAG = "graphrag", _("Knowledge graph")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="enrichment_jobs"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    # 0..1 while running, 1 done, -1 failed or cancelled (RAGFlow's convention).
    progress = models.FloatField(_("progress"), default=0.0)
    progress_msg = models.TextField(_("progress log"), blank=True, default="")
    # The documents the job covers (ids), fixed when it is queued.
    document_ids = models.JSONField(default=list, blank=True)
    chat_model = models.CharField(_("chat model"), max_length=255, blank=True, default="")
    checkpoint = models.JSONField(default=dict, blank=True)
    calls_used = models.PositiveIntegerField(_("LLM calls"), default=0)
    tokens_used = models.PositiveBigIntegerField(_("LLM tokens"), default=0)
    generation = models.PositiveIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    begin_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    process_duration = models.FloatField(default=0.0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        app_label = "knowledge"
        ordering = ["-created_at"]
        verbose_name = _("enrichment job")
        verbose_name_plural = _("enrichment jobs")
        indexes = [
            models.Index(fields=["dataset", "kind", "-created_at"], name="enrichjob_dataset_kind"),
            models.Index(fields=["status", "heartbeat_at"], name="enrichjob_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class LLMAnswer(models.Model):
    """A chat model's answer to one prompt for one dataset, kept so that a job run again (its
    worker died, the document was parsed again) does not pay for the same call twice."""

    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="llm_answers"
    )
    # sha256 of the model id, the messages and the generation settings.
    key = models.CharField(max_length=64)
    answer = models.TextField()
    tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "knowledge"
        constraints = [
            models.UniqueConstraint("dataset", "key", name="llmanswer_unique_key_per_dataset"),
        ]

    def __str__(self) -> str:
        return self.key
