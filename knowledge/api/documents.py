"""/api/v1/datasets/{id}/documents and parse/stop: thin views over the document services (§3)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.common import generation_texts, speaks_v027
from knowledge.api.serializers import RUN_CODE, document_out, document_upload_out
from knowledge.models import Dataset, Document
from knowledge.selectors import dataset_get_owned, dataset_get_visible, documents_filtered
from knowledge.services.documents import (
    Upload,
    check_upload_names,
    document_delete,
    document_open,
    document_update,
)
from knowledge.services.documents import document_upload as upload_documents
from knowledge.services.ingest import BatchOutcome, parse_start, parse_stop
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError, DataError, ExceptionError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import bulk_delete_ids, json_body, lenient_int, lenient_json, paging
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


def _owned(request: ApiRequest, dataset_id: str, message: str) -> Dataset:
    dataset = dataset_get_owned(request.user, dataset_id)
    if dataset is None:
        raise DataError(message)
    return dataset


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
        dataset = dataset_get_owned(request.user, dataset_id)
        if dataset is None:
            raise ExceptionError(f"Can't find the dataset with ID {dataset_id}!")
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
        dataset = dataset_get_visible(request.user, dataset_id)
        if dataset is None:
            raise DataError(f"You don't own the dataset {dataset_id}. ")
        params = request.query_params
        document_id = params.get("id") or None
        name = params.get("name") or None
        if document_id and not Document.objects.filter(dataset=dataset, pk=document_id).exists():
            raise DataError(f"You don't own the document {document_id}.")
        if name and not Document.objects.filter(dataset=dataset, name=name).exists():
            raise DataError(f"You don't own the document {name}.")
        orderby = params.get("orderby") or "create_time"
        if orderby not in _ORDER_COLUMNS:
            raise ExceptionError(f"Documents have no field '{orderby}' to order by.")
        desc = (params.get("desc") or "true").strip().lower() != "false"
        runs = [RUN_CODE.get(r.strip().upper(), r.strip()) for r in params.getlist("run")]
        documents = documents_filtered(
            dataset,
            keywords=params.get("keywords") or "",
            suffixes=params.getlist("suffix"),
            runs=runs,
            created_from_ms=lenient_int(params.get("create_time_from"), 0, name="create_time_from"),
            created_to_ms=lenient_int(params.get("create_time_to"), 0, name="create_time_to"),
            document_id=document_id,
            name=name,
        )
        column = _ORDER_COLUMNS[orderby]
        documents = documents.order_by(f"-{column}" if desc else column, "pk")
        total = documents.count()
        start, end = paging(params)
        docs = [document_out(d) for d in documents[start:end]]
        return Response(ok({"total": total, "docs": docs}))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        """Delete documents; all of them only for `"ids": null` (v0.22) or `"delete_all": true`.

        v0.27 (a `delete_all` key, or the key's generation) deletes nothing when one id is
        unknown and answers `{"deleted": n}`; v0.22 deletes the rest and names the unknown.
        """
        dataset = _owned(request, dataset_id, f"You don't own the dataset {dataset_id}. ")
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
        v027 = is_v027(request)
        with generation_texts(v027):
            dataset = _owned(request, dataset_id, "You don't own the dataset.")
            document = document_update(
                dataset=dataset, document_id=document_id, body=lenient_json(request)
            )
        return Response(document_out(document))

    patch = put

    def get(self, request: ApiRequest, dataset_id: str, document_id: str) -> FileResponse:
        dataset = dataset_get_visible(request.user, dataset_id)
        if dataset is None:
            raise DataError(f"You do not own the dataset {dataset_id}.")
        document = Document.objects.filter(dataset=dataset, pk=document_id).first()
        if document is None:
            raise DataError(f"The dataset not own the document {document_id}.")
        handle = document_open(document)
        # FileResponse streams, guesses Content-Type from the name and writes a UTF-8
        # filename* parameter for non-ASCII names.
        return FileResponse(handle, as_attachment=True, filename=document.name)


def _document_ids(request: ApiRequest) -> list[Any]:
    ids = json_body(request).get("document_ids")
    if not ids or not isinstance(ids, list):
        raise DataError("`document_ids` is required")
    return ids


class ParseApi(APIView):
    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id, f"You don't own the dataset {dataset_id}.")
        return _batch_reply(parse_start(dataset=dataset, document_ids=_document_ids(request)))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _owned(request, dataset_id, f"You don't own the dataset {dataset_id}.")
        return _batch_reply(parse_stop(dataset=dataset, document_ids=_document_ids(request)))
