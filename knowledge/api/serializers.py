"""Datasets under RAGFlow's public names (contract §2.1)."""

from __future__ import annotations

from typing import Any

from knowledge.models import Dataset
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
        "create_time": epoch_ms(dataset.created_at),
        "update_time": epoch_ms(dataset.updated_at),
        "create_date": rfc1123(dataset.created_at),
        "update_date": rfc1123(dataset.updated_at),
    }
