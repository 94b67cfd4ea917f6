from __future__ import annotations

from django.contrib import admin

from knowledge.models import Dataset


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
    readonly_fields = ("id", "document_count", "chunk_count", "token_count", "created_at", "updated_at")
    date_hierarchy = "created_at"
