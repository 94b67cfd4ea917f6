"""/api/v1/datasets/{id}/documents and parse/stop: thin views over the document services (§3)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.common import generation_texts, speaks_v027
from knowledge.api.schemas import DocumentIdsIn, DocumentListIn, DocumentUpdateIn
from knowledge.api.schemas.documents import DocumentsIngestIn
from knowledge.api.serializers import document_out, document_upload_out
from knowledge.models import Dataset, Document
from knowledge.selectors import (
    dataset_get_owned_or_raise,
    dataset_get_visible_or_raise,
    document_get_or_raise,
    documents_filtered,
)
from knowledge.services.documents import (
    Upload,
    check_upload_names,
    document_delete,
    document_open,
    document_update,
)
from knowledge.services.documents import document_upload as upload_documents
from knowledge.services.ingest import BatchOutcome, documents_ingest, parse_start, parse_stop
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError, DataError, ExceptionError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import bulk_delete_ids, json_body, lenient_json, page_bounds, validate
from ragsite.ids import split_duplicates

# API orderby names → columns; RAGFlow accepts any document column name.
_ORDER_COLUMNS = {
    "create_time": "created_at",
    "update_time": "updated_at",
    "create_date": "created_at",
    "update_date": "updated_at",
    "name": "name",
    "size": "size",
    "type": "type",
    "suffix": "suffix",
    "progress": "progress",
    "run": "run",
    "chunk_num": "chunk_count",
    "chunk_count": "chunk_count",
    "token_num": "token_count",
    "token_count": "token_count",
    "id": "id",
}


def _batch_reply(outcome: BatchOutcome) -> Response:
    if outcome.not_found:
        raise DataError(f"Documents not found: {outcome.not_found!r}")
    if outcome.duplicates:
        errors = [f"Duplicate document ids: {doc_id}" for doc_id in outcome.duplicates]
        if not outcome.success_count:
            raise DataError(";".join(errors))
        return Response(ok({"success_count": outcome.success_count, "errors": errors}))
    return Response()


class _RawNames(FileUploadHandler):
    """Records each `file` part's name as sent, before Django sanitises or shortens it."""

    def __init__(self, request: Any) -> None:
        super().__init__(request)
        self.seen: list[str] = []

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name == "file":
            self.seen.append(file_name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # pass through to the handlers that store the file

    def file_complete(self, file_size: int) -> None:
        return None


class DocumentsApi(APIView):
    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        """Upload: repeated multipart field `file`."""
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.RAGSITE_MAX_UPLOAD_BYTES
        if length > limit:
            # Refuse before Django spools the body to disk.
            raise ArgumentError(
                f"The upload is {length} bytes, larger than the limit of {limit} bytes."
            )
        # v0.22 answers an unknown dataset with code 100, v0.27 with 102.
        unknown = (DataError if is_v027(request) else ExceptionError)(
            f"Can't find the dataset with ID {dataset_id}!"
        )
        dataset = dataset_get_owned_or_raise(request.user, dataset_id, error=unknown)
        raw = request._request
        names = _RawNames(raw)
        raw.upload_handlers.insert(0, names)
        files = raw.FILES.getlist("file")
        if "file" not in raw.FILES:
            raise ArgumentError("No file part!")
        # Django shortens names over 255 characters; check what the client really sent.
        check_upload_names(names.seen or [f.name or "" for f in files])
        uploads = [Upload(name=f.name or "", file=f, size=f.size or 0) for f in files]
        documents = upload_documents(tenant=request.user, dataset=dataset, uploads=uploads)
        return Response([document_upload_out(d) for d in documents])

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        """List with every filter of both generations, filtered before paging."""
        dataset = dataset_get_visible_or_raise(
            request.user, dataset_id, error=DataError(f"You don't own the dataset {dataset_id}. ")
        )
        v027 = is_v027(request)
        params = DocumentListIn.from_query(request.query_params)
        with generation_texts(v027):
            for value, column in ((params.id, "pk"), (params.name, "name")):
                if (
                    value
                    and not Document.objects.filter(dataset=dataset, **{column: value}).exists()
                ):
                    raise DataError(f"You don't own the document {value}.")
        if params.orderby not in _ORDER_COLUMNS:
            raise ExceptionError(f"Documents have no field '{params.orderby}' to order by.")
        documents = documents_filtered(
            dataset,
            keywords=params.keywords,
            suffixes=params.suffixes,
            runs=params.runs,
            created_from_ms=params.created_from_ms,
            created_to_ms=params.created_to_ms,
            document_id=params.id,
            name=params.name,
            ids=params.ids,
            types=params.types,
            metadata_condition=params.metadata_condition,
            metadata=params.metadata,
        )
        column = _ORDER_COLUMNS[params.orderby]
        documents = documents.order_by(f"-{column}" if params.desc else column, "pk")
        total = documents.count()
        page_size = params.page_size
        if page_size is None or (page_size <= 0 and v027):
            page_size = 30  # G8: v0.22 returns nothing for page_size=0, v0.27 its default
        start, end = page_bounds(params.page, page_size)
        docs = [document_out(d) for d in documents[start:end]]
        return Response(ok({"total": total, "docs": docs}))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        """Delete documents; all of them only for `"ids": null` (v0.22) or `"delete_all": true`.

        v0.27 (a `delete_all` key, or the key's generation) deletes nothing when one id is
        unknown and answers `{"deleted": n}`; v0.22 deletes the rest and names the unknown.
        """
        dataset = dataset_get_owned_or_raise(
            request.user, dataset_id, error=DataError(f"You don't own the dataset {dataset_id}. ")
        )
        body = json_body(request)
        v027 = speaks_v027(request, body)
        if body.get("delete_all") is True and body.get("ids"):
            raise DataError(
                f"should not provide both doc ids and delete_all(true), dataset: {dataset_id}. "
            )
        ids = bulk_delete_ids(body)
        if ids == []:
            raise DataError(
                f"should either provide doc ids or set delete_all(true), dataset: {dataset_id}. "
            )
        if v027 and ids:
            _unique, duplicates = split_duplicates(ids)
            if duplicates:
                raise ArgumentError(
                    f"Field: <ids> - Message: <Duplicate ids: '{', '.join(duplicates)}'> "
                    f"- Value: <{ids}>"
                )
        deleted, missing, duplicates = document_delete(
            dataset=dataset, ids=ids, all_or_nothing=v027
        )
        if v027:
            return Response(ok({"deleted": deleted}))
        return _batch_reply(BatchOutcome(deleted, missing, duplicates))


class DocumentApi(APIView):
    def put(self, request: ApiRequest, dataset_id: str, document_id: str) -> Response:
        """Update a document: PUT (v0.22) or PATCH (v0.27), same rules, object or array body."""
        with generation_texts(is_v027(request)):
            dataset = dataset_get_owned_or_raise(
                request.user, dataset_id, error=DataError("You don't own the dataset.")
            )
            document_get_or_raise(
                dataset, document_id, error=DataError("The dataset doesn't own the document.")
            )
            changes = validate(DocumentUpdateIn, lenient_json(request), strict=False).changes()
            document = document_update(dataset=dataset, document_id=document_id, changes=changes)
        return Response(document_out(document))

    patch = put

    def get(self, request: ApiRequest, dataset_id: str, document_id: str) -> FileResponse:
        """The original bytes; errors keep exactly `{code, message}` (SDK 0.22's test)."""
        v027 = is_v027(request)
        not_found = DataError("document not found") if v027 else None
        dataset = dataset_get_visible_or_raise(
            request.user,
            dataset_id,
            error=not_found or DataError(f"You do not own the dataset {dataset_id}."),
        )
        document = document_get_or_raise(
            dataset,
            document_id,
            error=not_found or DataError(f"The dataset not own the document {document_id}."),
        )
        handle = document_open(document)
        # FileResponse streams, guesses Content-Type from the name and writes a UTF-8
        # filename* parameter for non-ASCII names.
        return FileResponse(handle, as_attachment=True, filename=document.name)


def _owned(request: ApiRequest, dataset_id: str) -> Dataset:
    return dataset_get_owned_or_raise(request.user, dataset_id)


class ParseApi(APIView):
    """The old routes both SDKs use: POST (parse) and DELETE (stop) /datasets/{id}/chunks."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id)
        ids = validate_ids(request)
        return _batch_reply(parse_start(dataset=dataset, document_ids=ids))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id)
        ids = validate_ids(request)
        # v0.27 words a refused stop more exactly and adds `data.error_code`.
        with generation_texts(is_v027(request)):
            return _batch_reply(parse_stop(dataset=dataset, document_ids=ids))


class DocumentsParseApi(APIView):
    """POST /datasets/{id}/documents/parse (v0.27): queue documents, running ones again too."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id)
        ids = validate_ids(request)
        outcome = parse_start(dataset=dataset, document_ids=ids, restart_running=True)
        if outcome.not_found:
            # The known ones stay queued, as in RAGFlow.
            raise DataError(f"Documents not found: {outcome.not_found!r}")
        return Response(ok(_counted(outcome.success_count, _duplicate_errors(outcome))))


class DocumentsStopApi(APIView):
    """POST /datasets/{id}/documents/stop (v0.27): what is not parsing is reported, not refused."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id)
        ids = validate_ids(request)
        outcome = parse_stop(dataset=dataset, document_ids=ids, skip_idle=True)
        errors = _duplicate_errors(outcome) + [
            "Can't stop parsing document that has not started or already completed"
            for _doc_id in outcome.idle
        ]
        return Response(ok(_counted(outcome.success_count, errors)))


def validate_ids(request: ApiRequest) -> list[str]:
    return validate(DocumentIdsIn, json_body(request), strict=False).document_ids


def _duplicate_errors(outcome: BatchOutcome) -> list[str]:
    return [f"Duplicate document ids: {doc_id}" for doc_id in outcome.duplicates]


def _counted(success_count: int, errors: list[str]) -> dict[str, Any]:
    return {"success_count": success_count, **({"errors": errors} if errors else {})}


class DocumentsIngestApi(APIView):
    """POST /documents/ingest (v0.27): `run` "1" starts or reruns parsing, "2" cancels."""

    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        missing = [key for key in ("doc_ids", "run") if key not in body]
        if missing:
            raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")
        params = validate(DocumentsIngestIn, body, strict=False)
        documents_ingest(
            tenant=request.user,
            document_ids=params.doc_ids,
            run=params.run,
            apply_kb=params.apply_kb,
        )
        return Response(ok(True))
