from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from knowledge.models import Chunk, Dataset, Document, ModelProvider


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tenant",
        "permission",
        "chunk_method",
        "embedding_model",
        "document_count",
        "chunk_count",
        "created_at",
    )
    list_filter = ("permission", "chunk_method", "embedding_model", "created_at")
    search_fields = ("name", "description", "id", "tenant__username")
    autocomplete_fields = ("tenant",)
    readonly_fields = (
        "id",
        "document_count",
        "chunk_count",
        "token_count",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "created_at"


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "dataset",
        "run",
        "progress",
        "chunk_count",
        "size",
        "enabled",
        "created_at",
    )
    list_filter = ("run", "enabled", "type", "chunk_method", "created_at")
    search_fields = ("name", "id", "dataset__name", "tenant__username")
    raw_id_fields = ("dataset", "tenant")
    readonly_fields = (
        "id",
        "location",
        "size",
        "progress",
        "progress_msg",
        "process_begin_at",
        "process_duration",
        "chunk_count",
        "token_count",
        "parse_generation",
        "parse_attempts",
        "heartbeat_at",
        "created_at",
        "updated_at",
    )


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("id", "short_content", "document", "dataset", "available", "token_count")
    list_filter = ("available", "embedding_dim")
    search_fields = ("id", "content", "document__name")
    raw_id_fields = ("dataset", "document")
    exclude = ("embedding", "search_vector")
    readonly_fields = ("id", "content_ltks", "keywords_ltks", "embedding_dim", "created_at")

    @admin.display(description=_("content"))
    def short_content(self, obj: Chunk) -> str:
        return obj.content[:80]


class ModelProviderForm(forms.ModelForm):
    # Write-only: the stored key is never sent back to the browser.
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current key."),
    )
    clear_api_key = forms.BooleanField(label=_("Remove the stored key"), required=False)
    base_url = forms.URLField(
        label=_("base URL"),
        assume_scheme="http",  # model services usually run on plain HTTP on the local network
        help_text=_("The OpenAI-compatible API root, e.g. http://localhost:11434/v1"),
    )

    class Meta:
        model = ModelProvider
        fields = (
            "factory",
            "base_url",
            "api_key",
            "embedding_models",
            "chat_models",
            "rerank_models",
            "timeout_seconds",
            "enabled",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("api_key") and not cleaned.get("clear_api_key") and self.instance.pk:
            cleaned["api_key"] = ModelProvider.objects.get(pk=self.instance.pk).api_key
        return cleaned


@admin.register(ModelProvider)
class ModelProviderAdmin(admin.ModelAdmin):
    form = ModelProviderForm
    list_display = ("factory", "base_url", "enabled", "has_key", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("factory", "base_url", "embedding_models", "chat_models")

    @admin.display(boolean=True, description=_("key set"))
    def has_key(self, obj: ModelProvider) -> bool:
        return bool(obj.api_key)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"base_url": "http://127.0.0.1:11434/v1", "timeout_seconds": 60}
