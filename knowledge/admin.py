from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from knowledge.models import Chunk, Dataset, Document, EnrichmentJob, ModelProvider
from knowledge.services.chunks import ChunkChanges, chunk_delete, chunk_update
from knowledge.services.datasets import dataset_delete
from knowledge.services.documents import DocumentChanges, document_delete, document_update
from ragsite.api.errors import ServiceError


def _service_error(exc: ServiceError) -> forms.ValidationError:
    return forms.ValidationError(exc.message)


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

    # Deleting goes through the service, so the stored files go with the rows.
    def delete_model(self, request: HttpRequest, obj: Dataset) -> None:
        dataset_delete(tenant=obj.tenant, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
        for dataset in queryset.select_related("tenant"):
            dataset_delete(tenant=dataset.tenant, ids=[dataset.pk])


class DocumentAdminForm(forms.ModelForm):
    """Edits a document through `document_update`, so its chunks follow `enabled`, a new chunk
    method resets its parse, and the service's refusals show as form errors.

    The service is the write: it runs when the form is cleaned (inside the admin's
    transaction), and the admin's own save then only reloads the row.
    """

    class Meta:
        model = Document
        fields = ("name", "chunk_method", "meta_fields", "enabled")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or self.instance.pk is None:
            return cleaned
        changed = set(self.changed_data)
        changes = DocumentChanges(
            name=cleaned.get("name") if "name" in changed else None,
            chunk_method=cleaned.get("chunk_method") if "chunk_method" in changed else None,
            meta_fields=cleaned.get("meta_fields") if "meta_fields" in changed else None,
            enabled=cleaned.get("enabled") if "enabled" in changed else None,
        )
        if changes == DocumentChanges():
            return cleaned
        if changes.meta_fields is not None and not isinstance(changes.meta_fields, dict):
            raise forms.ValidationError({"meta_fields": _("Metadata must be a JSON object.")})
        try:
            document_update(
                dataset=self.instance.dataset, document_id=self.instance.pk, changes=changes
            )
        except ServiceError as exc:
            raise _service_error(exc) from exc
        return cleaned


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentAdminForm
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
    readonly_fields = (
        "id",
        "dataset",
        "tenant",
        "type",
        "suffix",
        "location",
        "size",
        "parser_config",
        "run",
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # documents arrive by upload (the knowledge-base page or the API)

    def save_model(self, request: HttpRequest, obj: Document, form: Any, change: bool) -> None:
        obj.refresh_from_db()  # DocumentAdminForm.clean() already saved through the service

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(dataset=obj.dataset, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset.select_related("dataset"):
            document_delete(dataset=document.dataset, ids=[document.pk])


class ChunkAdminForm(forms.ModelForm):
    """Edits a chunk through `chunk_update`: a new text is embedded again and the counters and
    term statistics stay exact. Like DocumentAdminForm, the service writes when it is cleaned."""

    class Meta:
        model = Chunk
        fields = ("content", "important_keywords", "questions", "available")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or self.instance.pk is None:
            return cleaned
        changed = set(self.changed_data)
        for key in ("important_keywords", "questions"):
            value = cleaned.get(key)
            if key in changed and not (
                isinstance(value, list) and all(isinstance(item, str) for item in value)
            ):
                raise forms.ValidationError({key: _("A JSON list of strings.")})
        changes = ChunkChanges(
            content=cleaned.get("content") if "content" in changed else None,
            important_keywords=cleaned.get("important_keywords")
            if "important_keywords" in changed
            else None,
            questions=cleaned.get("questions") if "questions" in changed else None,
            available=cleaned.get("available") if "available" in changed else None,
        )
        if changes == ChunkChanges():
            return cleaned
        try:
            chunk_update(
                document=self.instance.document, chunk_id=self.instance.pk, changes=changes
            )
        except ServiceError as exc:
            raise _service_error(exc) from exc
        return cleaned


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    form = ChunkAdminForm
    list_display = ("id", "short_content", "document", "dataset", "available", "token_count")
    list_filter = ("available", "embedding_dim")
    search_fields = ("id", "content", "document__name")
    readonly_fields = (
        "id",
        "dataset",
        "document",
        "ordinal",
        "tags",
        "image_id",
        "page_numbers",
        "positions",
        "token_count",
        "content_ltks",
        "keywords_ltks",
        "embedding_dim",
        "created_at",
    )

    @admin.display(description=_("content"))
    def short_content(self, obj: Chunk) -> str:
        return obj.content[:80]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # chunks come from parsing, or from the document's chunk page

    def save_model(self, request: HttpRequest, obj: Chunk, form: Any, change: bool) -> None:
        pass  # ChunkAdminForm.clean() already saved through the service

    def delete_model(self, request: HttpRequest, obj: Chunk) -> None:
        chunk_delete(document=obj.document, ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Chunk]) -> None:
        for chunk in queryset.select_related("document"):
            chunk_delete(document=chunk.document, ids=[chunk.pk])


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:  # no key stored yet: nothing to keep or remove
            self.fields["api_key"].help_text = _("Empty if the service needs no key.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            cleaned["clear_api_key"] = False
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

    def get_fields(self, request: HttpRequest, obj: ModelProvider | None = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None:  # adding: there is no stored key to remove
            fields.remove("clear_api_key")
        return fields


@admin.register(EnrichmentJob)
class EnrichmentJobAdmin(admin.ModelAdmin):
    """LLM enrichment jobs, read-only: they are started, stopped and resumed by the services."""

    list_display = ("id", "dataset", "kind", "status", "progress", "calls_used", "tokens_used", "created_at")  # fmt: skip
    list_filter = ("kind", "status")
    search_fields = ("id", "dataset__name")
    readonly_fields = [f.name for f in EnrichmentJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
