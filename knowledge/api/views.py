"""/api/v1/datasets: thin views over knowledge.services.datasets (contract §2)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.schemas import (
    DatasetCreateIn,
    DatasetDeleteIn,
    DatasetListIn,
    DatasetUpdateIn,
    uuid1_hex,
)
from knowledge.api.serializers import dataset_out
from knowledge.models import Dataset
from knowledge.services.datasets import (
    DatasetChanges,
    dataset_create,
    dataset_delete,
    dataset_list,
    dataset_update,
)
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError
from ragsite.api.parsing import page_bounds, query_dict, strict_json_object, validate

# Counters a 0.17 client may echo back on update; accepted when unchanged (contract §10.3).
_LEGACY_COUNTERS = ("chunk_count", "document_count")


class DatasetsApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        params = validate(DatasetListIn, query_dict(request), strict=False)
        datasets = dataset_list(
            user=request.user,
            dataset_id=params.id,
            name=params.name or None,
            orderby=params.orderby,
            desc=params.desc,
        )
        total = datasets.count()
        start, end = page_bounds(params.page, params.page_size)
        data = [dataset_out(ds) for ds in datasets[start:end]]
        return Response(ok(data, total_datasets=total, total=total))

    def post(self, request: ApiRequest) -> Response:
        body = validate(DatasetCreateIn, strict_json_object(request))
        dataset = dataset_create(
            tenant=request.user,
            name=body.name,
            avatar=body.avatar,
            description=body.description,
            embedding_model=body.embedding_model,
            permission=body.permission,
            chunk_method=body.chunk_method,
            parser_config=body.parser_config,
            language=body.language,
        )
        return Response(dataset_out(dataset))

    def delete(self, request: ApiRequest) -> Response:
        body = validate(DatasetDeleteIn, strict_json_object(request))
        dataset_delete(tenant=request.user, ids=body.ids)
        return Response()


class DatasetApi(APIView):
    def put(self, request: ApiRequest, dataset_id: str) -> Response:
        try:
            dataset_id = uuid1_hex(dataset_id)
        except ValueError as exc:
            raise ArgumentError(
                f"Field: <dataset_id> - Message: <Invalid UUID1 format> - Value: <{dataset_id}>"
            ) from exc
        payload = strict_json_object(request)
        _drop_unchanged_legacy_counters(request, dataset_id, payload)
        body = validate(DatasetUpdateIn, payload)
        sent = body.model_dump(include=body.model_fields_set)
        if not sent:
            raise ArgumentError("No properties were modified")
        sent.pop("parser_config", None)
        changes = DatasetChanges(values=sent, parser_config=body.parser_config)
        dataset = dataset_update(tenant=request.user, dataset_id=dataset_id, changes=changes)
        return Response(dataset_out(dataset))


def _drop_unchanged_legacy_counters(
    request: ApiRequest, dataset_id: str, payload: dict[str, Any]
) -> None:
    present = [key for key in _LEGACY_COUNTERS if key in payload]
    if not present:
        return
    dataset = Dataset.objects.filter(pk=dataset_id, tenant=request.user).first()
    if dataset is None:
        return
    for key in present:
        if payload[key] == getattr(dataset, key):
            del payload[key]
