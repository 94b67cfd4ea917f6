"""Datasets under RAGFlow's public names (contract §2.1)."""

from __future__ import annotations

from typing import Any

from knowledge.models import Dataset, Document
from ragsite.api.formats import epoch_ms, rfc1123


def dataset_out(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.pk,
        "name": dataset.name,
        "avatar": dataset.avatar,
        "description": dataset.description,
        "tenant_id": dataset.tenant_id,
        "created_by": dataset.tenant_id,
        "language": dataset.language,
        "embedding_model": dataset.embedding_model,
        "permission": dataset.permission,
        "document_count": dataset.document_count,
        "chunk_count": dataset.chunk_count,
        "token_num": dataset.token_count,
        "chunk_method": dataset.chunk_method,
        "parser_config": dataset.parser_config,
        "pagerank": dataset.pagerank,
        "similarity_threshold": dataset.similarity_threshold,
        "vector_similarity_weight": dataset.vector_similarity_weight,
        # ragsite has no ingestion pipelines and no knowledge-graph/RAPTOR/mind-map jobs yet.
        "pipeline_id": None,
        "graphrag_task_id": None,
        "raptor_task_id": None,
        "mindmap_task_id": None,
        "graphrag_task_finish_at": None,
        "raptor_task_finish_at": None,
        "mindmap_task_finish_at": None,
        "status": "1",
        "connectors": dataset.connectors,
        "create_time": epoch_ms(dataset.created_at),
        "update_time": epoch_ms(dataset.updated_at),
        "create_date": rfc1123(dataset.created_at),
        "update_date": rfc1123(dataset.updated_at),
    }


RUN_TEXT = {"0": "UNSTART", "1": "RUNNING", "2": "CANCEL", "3": "DONE", "4": "FAIL"}
RUN_CODE = {text: code for code, text in RUN_TEXT.items()}


def document_upload_out(document: Document) -> dict[str, Any]:
    """The slim shape upload answers with (contract §3.3): no counters, no timestamps."""
    return {
        "id": document.pk,
        "dataset_id": document.dataset_id,
        "chunk_method": document.chunk_method,
        "pipeline_id": None,
        "parser_config": document.parser_config,
        "created_by": document.tenant_id,
        "type": document.type,
        "name": document.name,
        "source_type": "local",
        "suffix": document.suffix,
        "location": document.location,
        "size": document.size,
        "thumbnail": "",
        "run": RUN_TEXT.get(document.run, document.run),
    }


def document_out(document: Document) -> dict[str, Any]:
    return {
        **document_upload_out(document),
        "token_count": document.token_count,
        "chunk_count": document.chunk_count,
        "progress": document.progress,
        "progress_msg": document.progress_msg,
        "process_begin_at": rfc1123(document.process_begin_at),
        "process_duration": document.process_duration,
        "meta_fields": document.meta_fields,
        "status": "1" if document.enabled else "0",
        "title": None,
        "create_time": epoch_ms(document.created_at),
        "update_time": epoch_ms(document.updated_at),
        "create_date": rfc1123(document.created_at),
        "update_date": rfc1123(document.updated_at),
    }
