"""Evaluation questions: what a knowledge base's owner expects retrieval to find."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id


class EvaluationQuestion(models.Model):
    """A question with the documents (or chunks) that answer it, kept with its dataset."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    dataset = models.ForeignKey(
        "knowledge.Dataset", on_delete=models.CASCADE, related_name="evaluation_questions"
    )
    question = models.TextField(_("question"))
    document_ids = models.JSONField(_("answering documents"), default=list, blank=True)
    chunk_ids = models.JSONField(_("answering chunks"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        app_label = "knowledge"
        ordering = ["created_at", "id"]
        verbose_name = _("evaluation question")
        verbose_name_plural = _("evaluation questions")

    def __str__(self) -> str:
        return self.question[:80]
