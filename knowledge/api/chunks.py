"""Chunk endpoints and POST /api/v1/retrieval: thin views over the chunk and retrieval services."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.common import generation_texts, speaks_v027
from knowledge.api.serializers import document_out
from knowledge.models import Chunk, Document
from knowledge.selectors import dataset_get_owned, dataset_get_visible
from knowledge.services import chunks as chunk_services
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.api.auth import ApiRequest
from ragsite.api.codes import RetCode
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError, DataError, ExceptionError, ServiceError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import (
    bulk_delete_ids,
    json_body,
    lenient_float,
    lenient_int,
    page_bounds,
)


def chunk_add_out(chunk: Chunk) -> dict[str, Any]:
    created = chunk.created_at.astimezone(UTC)
    return {
        "id": chunk.pk,
        "content": chunk.content,
        "document_id": chunk.document_id,
        "dataset_id": chunk.dataset_id,
        "important_keywords": chunk.important_keywords,
        "questions": chunk.questions,
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
        "dataset_id": chunk.dataset_id,
        "image_id": "",
        "available": chunk.available,
        "positions": chunk.positions,
    }


def _document(request: ApiRequest, dataset_id: str, document_id: str, *, write: bool) -> Document:
    dataset = (dataset_get_owned if write else dataset_get_visible)(request.user, dataset_id)
    if dataset is None:
        raise DataError(f"You don't own the dataset {dataset_id}.")
    document = (
        Document.objects.select_related("dataset").filter(pk=document_id, dataset=dataset).first()
    )
    if document is None:
        raise DataError(f"You don't own the document {document_id}.")
    return document


class ChunksApi(APIView):
    def post(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        document = _document(request, dataset_id, document_id, write=True)
        body = json_body(request)
        chunk = chunk_services.chunk_add(
            document=document,
            content=body.get("content"),
            important_keywords=body.get("important_keywords"),
            questions=body.get("questions"),
        )
        return Response(ok({"chunk": chunk_add_out(chunk)}))

    def get(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        document = _document(request, dataset_id, document_id, write=False)
        params = request.query_params
        chunk_id = params.get("id") or ""
        if chunk_id:
            chunk = Chunk.objects.filter(pk=chunk_id, document=document).first()
            if chunk is None:
                raise ServiceError(
                    f"Chunk not found: {dataset_id}/{chunk_id}", code=RetCode.NOT_FOUND
                )
            chunks, total = [chunk], 1
        else:
            page = lenient_int(params.get("page"), 1, name="page")
            page_size = lenient_int(params.get("page_size"), 30, name="page_size")
            page_bounds(page, page_size)
            found = chunk_services.chunk_list(
                document=document,
                page=page,
                page_size=page_size,
                keywords=params.get("keywords") or "",
            )
            chunks, total = found.chunks, found.total
        document.refresh_from_db()
        data = {
            "total": total,
            "chunks": [chunk_list_out(c, document) for c in chunks],
            "doc": document_out(document),
        }
        return Response(ok(data))

    def delete(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        dataset = dataset_get_owned(request.user, dataset_id)
        if dataset is None:
            raise DataError(f"You don't own the dataset {dataset_id}.")
        body = json_body(request)
        document = Document.objects.filter(pk=document_id, dataset=dataset).first()
        if document is None:
            if speaks_v027(request, body):
                raise DataError(f"you don't own the document {document_id}")
            raise ExceptionError(f"Can't find the document with ID {document_id}!")
        ids = bulk_delete_ids(body, "chunk_ids")
        outcome = chunk_services.chunk_delete(document=document, ids=ids)
        if outcome.requested and outcome.deleted != outcome.requested:
            raise DataError(
                f"rm_chunk deleted chunks {outcome.deleted}, expect {outcome.requested}"
            )
        if outcome.duplicates:
            errors = [f"Duplicate chunk ids: {c}" for c in outcome.duplicates]
            return Response(ok({"success_count": outcome.deleted, "errors": errors}))
        return Response()


class ChunkApi(APIView):
    def put(
        self, request: ApiRequest, dataset_id: str, document_id: str, chunk_id: str
    ) -> Response:
        """Update a chunk: PUT (v0.22) or PATCH (v0.27), same rules."""
        with generation_texts(is_v027(request)):
            document = _document(request, dataset_id, document_id, write=True)
            chunk_services.chunk_update(
                document=document, chunk_id_=chunk_id, body=json_body(request)
            )
        return Response()

    patch = put


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


class RetrievalApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        if "question" not in body:
            raise DataError("`question` is required.")
        question = body.get("question")
        if question is not None and not isinstance(question, str | int | float):
            raise ArgumentError("`question` should be a string.")
        dataset_ids = body.get("dataset_ids")
        if dataset_ids is None or dataset_ids == []:
            raise DataError("`dataset_ids` is required.")
        if not isinstance(dataset_ids, list):
            raise DataError("`dataset_ids` should be a list")
        document_ids = body.get("document_ids")
        if document_ids is None:
            document_ids = body.get("documents")  # ragflow-sdk 0.17's name for the filter
        if document_ids is not None and not isinstance(document_ids, list):
            raise DataError("`documents` should be a list")
        highlight = body.get("highlight", True)
        page = lenient_int(body.get("page"), 1, name="page")
        page_size = lenient_int(body.get("page_size"), 30, name="page_size")
        page_bounds(page, page_size)
        condition = body.get("metadata_condition") or {}
        result = retrieval_run(
            user=request.user,
            request=RetrievalRequest(
                question=str(question or ""),
                dataset_ids=[str(i) for i in dataset_ids],
                document_ids=[str(i) for i in document_ids or []],
                page=page,
                page_size=page_size,
                similarity_threshold=lenient_float(
                    body.get("similarity_threshold"), 0.2, name="similarity_threshold"
                ),
                vector_similarity_weight=lenient_float(
                    body.get("vector_similarity_weight"), 0.3, name="vector_similarity_weight"
                ),
                top_k=lenient_int(body.get("top_k"), 1024, name="top_k"),
                rerank_id=body.get("rerank_id") or None,
                highlight=highlight not in (False, "False", "false", 0),
                conditions=condition.get("conditions") or [] if isinstance(condition, dict) else [],
            ),
        )
        if result is None:
            return Response(ok({"total": 0, "chunks": [], "doc_aggs": {}}))
        data = {
            "chunks": [retrieval_chunk_out(h) for h in result.hits],
            "doc_aggs": result.doc_aggs,
            "total": result.total,
        }
        return Response(ok(data))
