"""Dataset metadata (RAGFlow v0.27 contract §3.2): the fields a dataset's documents carry, a
summary of their values, and bulk changes to documents' metadata."""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.schemas import MetadataConfig
from knowledge.api.schemas.metadata import MetadataBatchIn
from knowledge.selectors import (
    dataset_get_owned_or_raise,
    dataset_get_visible_or_raise,
    dataset_metadata_summary,
)
from knowledge.services.metadata import dataset_metadata_config_set, document_metadata_update
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import DataError
from ragsite.api.parsing import json_body, strict_json_object, validate


def _lacks_permission(request: ApiRequest, dataset_id: str) -> DataError:
    return DataError(f"User '{request.user.pk}' lacks permission for dataset '{dataset_id}'")


class MetadataConfigApi(APIView):
    """GET/PUT /datasets/{id}/metadata/config (ragflow-sdk 0.27 get/update_auto_metadata)."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = dataset_get_owned_or_raise(
            request.user, dataset_id, error=_lacks_permission(request, dataset_id)
        )
        config = MetadataConfig.model_validate(dataset.metadata_config or {}, strict=False)
        return Response(ok(config.model_dump()))

    def put(self, request: ApiRequest, dataset_id: str) -> Response:
        config = validate(MetadataConfig, strict_json_object(request))
        dataset = dataset_get_owned_or_raise(
            request.user, dataset_id, error=_lacks_permission(request, dataset_id)
        )
        stored = dataset_metadata_config_set(dataset=dataset, config=config.model_dump())
        return Response(ok(stored))


class MetadataSummaryApi(APIView):
    """GET /datasets/{id}/metadata/summary?doc_ids=a,b: each key's type and value counts."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = dataset_get_visible_or_raise(
            request.user, dataset_id, error=DataError(f"You don't own the dataset {dataset_id}. ")
        )
        raw = request.query_params.getlist("doc_ids")
        ids = [part.strip() for value in raw for part in value.split(",") if part.strip()]
        if len(ids) > 100:
            raise DataError("doc_ids must contain at most 100 IDs")
        return Response(ok({"summary": dataset_metadata_summary(dataset, ids or None)}))


def _metadata_update(request: ApiRequest, dataset_id: str, not_owned: str) -> Response:
    dataset = dataset_get_owned_or_raise(request.user, dataset_id, error=DataError(not_owned))
    batch = MetadataBatchIn.from_body(json_body(request))
    outcome = document_metadata_update(
        dataset=dataset,
        document_ids=batch.document_ids,
        condition=batch.condition,
        updates=batch.updates,
        deletes=batch.deletes,
    )
    return Response(ok({"updated": outcome.updated, "matched_docs": outcome.matched}))


class MetadataUpdateApi(APIView):
    """POST /datasets/{id}/metadata/update."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        return _metadata_update(request, dataset_id, f"You don't own the dataset {dataset_id}. ")


class DocumentsMetadatasApi(APIView):
    """PATCH /datasets/{id}/documents/metadatas: the same as metadata/update."""

    def patch(self, request: ApiRequest, dataset_id: str) -> Response:
        return _metadata_update(request, dataset_id, f"You don't own the dataset {dataset_id}.")
