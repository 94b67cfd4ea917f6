"""HTML views for knowledge bases, by resource; every change answers with HTMX fragments.

- datasets: the knowledge-base list (create, edit, delete in place);
- documents: a knowledge base's page (upload, parse, settings, delete, download);
- chunks: a document's chunks (page, search, add, edit, switch off, delete);
- retrieval: retrieval testing on a knowledge base.
"""

from knowledge.views.chunks import (
    add_chunk,
    chunk_detail,
    delete_chunk,
    delete_selected_chunks,
    document_chunks,
    edit_chunk,
    toggle_chunk,
)
from knowledge.views.datasets import (
    create_dataset,
    dataset_list,
    dataset_row,
    delete_dataset,
    edit_dataset,
)
from knowledge.views.documents import (
    dataset_detail,
    delete_document,
    delete_selected,
    document_settings,
    document_updates,
    download_document,
    parse_document,
    parse_selected,
    stop_parsing,
    toggle_document,
    upload_documents,
)
from knowledge.views.retrieval import retrieval_test

__all__ = [
    "add_chunk",
    "chunk_detail",
    "create_dataset",
    "dataset_detail",
    "dataset_list",
    "dataset_row",
    "delete_chunk",
    "delete_dataset",
    "delete_document",
    "delete_selected",
    "delete_selected_chunks",
    "document_chunks",
    "document_settings",
    "document_updates",
    "download_document",
    "edit_chunk",
    "edit_dataset",
    "parse_document",
    "parse_selected",
    "retrieval_test",
    "stop_parsing",
    "toggle_chunk",
    "toggle_document",
    "upload_documents",
]
