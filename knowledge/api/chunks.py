"""Chunk endpoints and POST /api/v1/retrieval: thin views over the chunk and retrieval services."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.common import generation_texts, speaks_v027
from knowledge.api.schemas import ChunkAddIn, ChunkAvailabilityIn, ChunkUpdateIn, RetrievalIn
from knowledge.api.serializers import (
    chunk_add_out,
    chunk_internal_out,
    chunk_list_out,
    document_out,
    retrieval_chunk_out,
)
from knowledge.models import Document
from knowledge.selectors import (
    chunk_get_or_raise,
    dataset_get_owned_or_raise,
    dataset_get_visible_or_raise,
    document_get_or_raise,
)
from knowledge.services import chunks as chunk_services
from knowledge.services.retrieval import retrieval_run
from ragsite.api.auth import ApiRequest
from ragsite.api.codes import RetCode
from ragsite.api.envelope import ok
from ragsite.api.errors import DataError, ExceptionError, ServiceError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import (
    bulk_delete_ids,
    json_body,
    lenient_int,
    page_bounds,
    query_bool,
    validate,
)


def _document(request: ApiRequest, dataset_id: str, document_id: str, *, write: bool) -> Document:
    """The document the chunks belong to: in a dataset the caller owns (writes) or may read."""
    get_dataset = dataset_get_owned_or_raise if write else dataset_get_visible_or_raise
    dataset = get_dataset(request.user, dataset_id)
    return document_get_or_raise(dataset, document_id)


def _id_list(values: list[str]) -> list[str]:
    """Repeated or comma-separated ids, blanks dropped."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class ChunksApi(APIView):
    def post(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        with generation_texts(is_v027(request)):
            document = _document(request, dataset_id, document_id, write=True)
        body = validate(ChunkAddIn, json_body(request), strict=False)
        chunk = chunk_services.chunk_add(
            document=document,
            content=body.content,
            important_keywords=body.important_keywords,
            questions=body.questions,
            tags=body.tag_kwd,
            tag_weights=body.tag_feas,
            image=body.image_base64,
        )
        return Response(ok({"chunk": chunk_add_out(chunk)}))

    def get(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        v027 = is_v027(request)
        with generation_texts(v027):
            document = _document(request, dataset_id, document_id, write=False)
        params = request.query_params
        chunk_id = params.get("id") or ""
        if chunk_id:
            # v0.22 answers an unknown id with 404, v0.27 with 102.
            code = RetCode.DATA_ERROR if v027 else RetCode.NOT_FOUND
            missing = ServiceError(f"Chunk not found: {dataset_id}/{chunk_id}", code=code)
            chunks, total = [chunk_get_or_raise(document, chunk_id, error=missing)], 1
        else:
            page = lenient_int(params.get("page"), 1, name="page")
            page_size = lenient_int(params.get("page_size"), 30, name="page_size")
            page_bounds(page, page_size)
            ids = _id_list(params.getlist("chunk_ids"))
            if len(ids) > 100:
                raise DataError("chunk_ids must contain at most 100 IDs")
            available = params.get("available")
            found = chunk_services.chunk_list(
                document=document,
                page=page,
                page_size=page_size,
                keywords=params.get("keywords") or "",
                ids=ids,
                # v0.27: "true" lists the available chunks, any other value the others.
                available=None if available is None else query_bool(available, False),
            )
            chunks, total = found.chunks, found.total
        document.refresh_from_db()
        data = {
            "total": total,
            "chunks": [chunk_list_out(c, document) for c in chunks],
            "doc": document_out(document),
        }
        return Response(ok(data))

    def patch(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        """Switch chunks on or off (v0.27): `{"chunk_ids": [...], "available_int": 0|1}`."""
        dataset = dataset_get_owned_or_raise(request.user, dataset_id)
        document = document_get_or_raise(
            dataset, document_id, error=DataError("document not found")
        )
        body = ChunkAvailabilityIn.from_body(json_body(request))
        chunk_services.chunk_set_available(
            document=document, chunk_ids=body.chunk_ids, available=body.available
        )
        return Response(ok(True))

    def delete(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        """Delete some chunks; all only for `"chunk_ids": null` or `"delete_all": true`."""
        dataset = dataset_get_owned_or_raise(request.user, dataset_id)
        body = json_body(request)
        missing = (
            DataError(f"you don't own the document {document_id}")
            if speaks_v027(request, body)
            else ExceptionError(f"Can't find the document with ID {document_id}!")
        )
        document = document_get_or_raise(dataset, document_id, error=missing)
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
    def get(
        self, request: ApiRequest, dataset_id: str, document_id: str, chunk_id: str
    ) -> Response:
        """One chunk under RAGFlow's internal names (v0.27)."""
        with generation_texts(True):
            document = _document(request, dataset_id, document_id, write=False)
        chunk = chunk_get_or_raise(document, chunk_id, error=DataError("Chunk not found!"))
        return Response(ok(chunk_internal_out(chunk, document)))

    def put(
        self, request: ApiRequest, dataset_id: str, document_id: str, chunk_id: str
    ) -> Response:
        """Update a chunk: PUT (v0.22) or PATCH (v0.27), same rules; the document is checked
        before the chunk."""
        with generation_texts(is_v027(request)):
            document = _document(request, dataset_id, document_id, write=True)
            chunk_get_or_raise(document, chunk_id)
            changes = validate(ChunkUpdateIn, json_body(request), strict=False).changes()
            chunk_services.chunk_update(document=document, chunk_id=chunk_id, changes=changes)
        return Response()

    patch = put


class RetrievalApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = validate(RetrievalIn, json_body(request), strict=False)
        # G8: v0.22 highlights unless told not to, v0.27 only when asked.
        query = body.request(highlight_default=not is_v027(request))
        result = retrieval_run(user=request.user, request=query)
        if result is None:
            return Response(ok({"total": 0, "chunks": [], "doc_aggs": {}}))
        data = {
            "chunks": [retrieval_chunk_out(h) for h in result.hits],
            "doc_aggs": result.doc_aggs,
            "total": result.total,
        }
        return Response(ok(data))
