"""Users are tenants; API keys authenticate them on /api/v1."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from ragsite.ids import new_id


class User(AbstractUser):
    """A person, and the tenant that owns their datasets, chats and agents.

    The primary key is a uuid1 hex string because RAGFlow reports tenant ids in that form
    (`tenant_id`, `created_by`, and in messages such as "User '<id>' lacks permission").
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Generation(models.TextChoices):
    """The RAGFlow API generation a key's clients speak, where the two answer differently.

    A handful of requests are identical from both official SDKs but need different answers
    (GET /api/v1/chats is a list for ragflow-sdk 0.22 and a paged object for 0.27); the key
    says which. Every other route serves both generations whatever the key says.
    """

    V0_22 = "v0.22", _("RAGFlow v0.22 (ragflow-sdk 0.22.x)")
    V0_27 = "v0.27", _("RAGFlow v0.27 (ragflow-sdk 0.27.x)")


class ApiKey(models.Model):
    """A bearer key. Only its SHA-256 digest is stored; the clear key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    generation = models.CharField(
        _("API generation"),
        max_length=8,
        choices=Generation.choices,
        default=Generation.V0_27,
        help_text=_("Which ragflow-sdk generation the key's clients use."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
