"""Datasets, documents and chunks under RAGFlow's public names (contract §2.1, §3, §4)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from knowledge.models import Chunk, Dataset, Document, EnrichmentJob, File, FileLink
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
        # ragsite has no ingestion pipelines and no mind-map jobs.
        "pipeline_id": None,
        "graphrag_task_id": dataset.graphrag_task_id or None,
        "raptor_task_id": dataset.raptor_task_id or None,
        "mindmap_task_id": None,
        "graphrag_task_finish_at": rfc1123(dataset.graphrag_task_finish_at),
        "raptor_task_finish_at": rfc1123(dataset.raptor_task_finish_at),
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


# --- chunks -------------------------------------------------------------------------------------


def _doc_type(chunk: Chunk) -> str:
    return "image" if chunk.image_id else "text"


def chunk_add_out(chunk: Chunk) -> dict[str, Any]:
    """POST …/chunks: v0.22's keys, and v0.27's tags, image id and type."""
    created = chunk.created_at.astimezone(UTC)
    return {
        "id": chunk.pk,
        "content": chunk.content,
        "document_id": chunk.document_id,
        "dataset_id": chunk.dataset_id,
        "important_keywords": chunk.important_keywords,
        "questions": chunk.questions,
        "tag_kwd": chunk.tags,
        "image_id": chunk.image_id,
        "doc_type_kwd": _doc_type(chunk),
        "create_time": created.strftime("%Y-%m-%d %H:%M:%S"),
        "create_timestamp": created.timestamp(),
    }


def chunk_list_out(chunk: Chunk, document: Document) -> dict[str, Any]:
    return {
        "id": chunk.pk,
        "content": chunk.content,
        "document_id": chunk.document_id,
        "docnm_kwd": document.name,
        "document_name": document.name,
        "important_keywords": chunk.important_keywords,
        "questions": chunk.questions,
        "tag_kwd": chunk.tags,
        "dataset_id": chunk.dataset_id,
        "image_id": chunk.image_id,
        "doc_type_kwd": _doc_type(chunk),
        "available": chunk.available,
        "positions": chunk.positions,
    }


def chunk_internal_out(chunk: Chunk, document: Document) -> dict[str, Any]:
    """GET …/chunks/{id} (v0.27): the stored chunk under RAGFlow's internal names, without
    vectors and token fields."""
    created = chunk.created_at.astimezone(UTC)
    return {
        "id": chunk.pk,
        "content_with_weight": chunk.content,
        "doc_id": chunk.document_id,
        "kb_id": chunk.dataset_id,
        "docnm_kwd": document.name,
        "important_kwd": chunk.important_keywords,
        "question_kwd": chunk.questions,
        "tag_kwd": chunk.tags,
        "tag_feas": chunk.tag_weights,
        "img_id": chunk.image_id,
        "doc_type_kwd": _doc_type(chunk),
        "available_int": 1 if chunk.available else 0,
        "page_num_int": list(chunk.page_numbers or []),
        "position_int": chunk.positions,
        "create_time": created.strftime("%Y-%m-%d %H:%M:%S"),
        "create_timestamp_flt": created.timestamp(),
    }


def retrieval_chunk_out(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.id,
        "content": hit.content,
        "content_ltks": hit.content_ltks,
        "document_id": hit.document_id,
        "document_keyword": hit.document_name,
        "document_name": hit.document_name,
        "dataset_id": hit.dataset_id,
        "important_keywords": hit.important_keywords,
        "image_id": "",
        "similarity": hit.similarity,
        "vector_similarity": hit.vector_similarity,
        "term_similarity": hit.term_similarity,
        "positions": hit.positions,
        "doc_type_kwd": "",
        "highlight": hit.highlight,
    }


def enrichment_task_out(job: EnrichmentJob) -> dict[str, Any]:
    """An enrichment job as RAGFlow's task row (trace_raptor, GET /index?type=…)."""
    return {
        "id": job.pk,
        "doc_id": (job.document_ids or [""])[0],
        "from_page": 100000000,
        "to_page": 100000000,
        "task_type": job.kind,
        "priority": 0,
        "begin_at": rfc1123(job.begin_at or job.created_at),
        "process_duration": job.process_duration,
        "progress": job.progress,
        "progress_msg": job.progress_msg,
        "retry_count": job.attempts,
        "digest": "",
        "chunk_ids": "",
        # ragsite's own: the job's state, what it used and its chat model.
        "status": job.status,
        "llm_id": job.chat_model,
        "llm_calls": job.calls_used,
        "llm_tokens": job.tokens_used,
        "create_time": epoch_ms(job.created_at),
        "create_date": rfc1123(job.created_at),
        "update_time": epoch_ms(job.updated_at),
        "update_date": rfc1123(job.updated_at),
    }


# --- the file manager -------------------------------------------------------------------------


def file_out(file: File) -> dict[str, Any]:
    """RAGFlow's file row (`File.to_json()`)."""
    return {
        "id": file.pk,
        "parent_id": file.parent_id,
        "tenant_id": file.tenant_id,
        "created_by": file.tenant_id,
        "name": file.name,
        "location": file.location,
        "size": file.size,
        "type": file.type,
        "source_type": file.source_type,
        "create_time": epoch_ms(file.created_at),
        "create_date": rfc1123(file.created_at),
        "update_time": epoch_ms(file.updated_at),
        "update_date": rfc1123(file.updated_at),
    }


def file_link_out(link: FileLink) -> dict[str, Any]:
    """RAGFlow's File2Document row (the old `/file/convert` answer)."""
    return {
        "id": link.pk,
        "file_id": link.file_id,
        "document_id": link.document_id,
        "create_time": epoch_ms(link.created_at),
        "create_date": rfc1123(link.created_at),
        "update_time": epoch_ms(link.updated_at),
        "update_date": rfc1123(link.updated_at),
    }
