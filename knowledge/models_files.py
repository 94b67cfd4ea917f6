"""The personal file manager (RAGFlow v0.27 §3.9): a folder tree per user and links to datasets.

A file's bytes are stored once, under `location`. Linking a file to a dataset makes a
`Document` whose `location` is the same key (no copy) and a `FileLink` between the two; the
bytes are removed only when no file or document refers to the key any more.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id

# `source_type` of a runtime attachment (POST /documents/upload): stored like a file, kept out
# of the folder tree.
ATTACHMENT = "attachment"


class TreeManager(models.Manager["File"]):
    """The folder tree: every file and folder, without runtime attachments."""

    def get_queryset(self) -> models.QuerySet[File]:
        return super().get_queryset().exclude(source_type=ATTACHMENT)


class AttachmentManager(models.Manager["File"]):
    def get_queryset(self) -> models.QuerySet[File]:
        return super().get_queryset().filter(source_type=ATTACHMENT)


class File(models.Model):
    """A file or folder. A user's root folder is its own parent (RAGFlow's convention).

    Runtime attachments (chat and agent uploads, `source_type="attachment"`) are rows too, for
    their owner and stored bytes, but `File.objects` never shows them: `File.attachments` does.
    """

    class Type(models.TextChoices):
        FOLDER = "folder", _("Folder")
        VIRTUAL = "virtual", _("Virtual")
        PDF = "pdf", _("PDF")
        DOC = "doc", _("Document")
        VISUAL = "visual", _("Image")
        AURAL = "aural", _("Audio")
        OTHER = "other", _("Other")

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    tenant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, related_name="children", db_index=True
    )
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    # Storage key of the bytes ("" for folders and virtual files).
    location = models.CharField(_("storage key"), max_length=512, blank=True, db_index=True)
    source_type = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TreeManager()
    attachments = AttachmentManager()

    class Meta:
        app_label = "knowledge"
        ordering = ["-created_at"]
        verbose_name = _("file")
        verbose_name_plural = _("files")
        constraints = [
            models.UniqueConstraint(
                "tenant", condition=Q(parent=F("id")), name="file_one_root_per_tenant"
            ),
        ]
        indexes = [models.Index(fields=["parent", "name"], name="file_parent_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_folder(self) -> bool:
        return self.type == File.Type.FOLDER

    @property
    def is_root(self) -> bool:
        return self.parent_id == self.pk


class FileLink(models.Model):
    """A file linked to a dataset as one of its documents (RAGFlow's File2Document)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    file = models.ForeignKey(File, on_delete=models.CASCADE, related_name="links")
    document = models.OneToOneField(
        "knowledge.Document", on_delete=models.CASCADE, related_name="file_link"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        app_label = "knowledge"
        verbose_name = _("file link")
        verbose_name_plural = _("file links")

    def __str__(self) -> str:
        return f"{self.file_id} → {self.document_id}"
