"""/api/v1/datasets: thin views over knowledge.services.datasets (contract §2)."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.common import permission_as_data_error, speaks_v027
from knowledge.api.schemas import (
    DatasetCreateIn,
    DatasetDeleteIn,
    DatasetDeleteIn27,
    DatasetListIn,
    DatasetListIn27,
    DatasetUpdateIn,
    uuid1_hex,
    uuid_hex,
)
from knowledge.api.serializers import dataset_out
from knowledge.selectors import (
    dataset_get_owned,
    dataset_get_visible_or_raise,
    dataset_size,
    parsing_status,
)
from knowledge.services.datasets import (
    DatasetChanges,
    dataset_create,
    dataset_delete,
    dataset_list,
    dataset_update,
)
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import (
    bulk_delete_ids,
    page_bounds,
    query_dict,
    strict_json_object,
    validate,
)

# Counters a 0.17 client may echo back on update; accepted when unchanged (contract §10.3).
_LEGACY_COUNTERS = ("chunk_count", "document_count")


class DatasetsApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        """List; v0.27 adds `ids` (repeated or comma-separated) and `include_parsing_status`."""
        v027 = is_v027(request)
        query: dict[str, Any] = query_dict(request)
        ids = [part for value in request.GET.getlist("ids") for part in value.split(",") if part]
        query["ids"] = ids
        if query.get("id") and ids:
            raise DataError(f"Should not provide both 'id':{query['id']} and 'ids'{ids}")
        params = validate(DatasetListIn27 if v027 else DatasetListIn, query, strict=False)
        with permission_as_data_error(v027):
            datasets = dataset_list(
                user=request.user,
                dataset_id=params.id,
                name=params.name or None,
                orderby=params.orderby,
                desc=params.desc,
                ids=params.ids,
            )
        total = datasets.count()
        start, end = page_bounds(params.page, params.page_size)
        page = list(datasets[start:end])
        data = [dataset_out(ds) for ds in page]
        if params.include_parsing_status:
            status = parsing_status([ds.pk for ds in page])
            for item in data:
                # RAGFlow's code nests the counts, its docs show them flat: both are sent.
                item["parsing_status"] = status[item["id"]]
                item.update(status[item["id"]])
        return Response(ok(data, total_datasets=total, total=total))

    def post(self, request: ApiRequest) -> Response:
        body = validate(DatasetCreateIn, strict_json_object(request))
        metadata = body.auto_metadata_config
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
            metadata_config=None if metadata is None else metadata.model_dump(),
        )
        return Response(dataset_out(dataset))

    def delete(self, request: ApiRequest) -> Response:
        """Delete by ids; everything only for `"ids": null` (v0.22) or `"delete_all": true`.

        v0.27 (a `delete_all` key, or the key's generation) may leave `ids` out, takes any UUID
        and answers the count; v0.22 requires `ids` and answers `{"code": 0}`.
        """
        payload = strict_json_object(request)
        v027 = speaks_v027(request, payload)
        body = validate(DatasetDeleteIn27 if v027 else DatasetDeleteIn, payload)
        everything = bulk_delete_ids(payload) is None
        with permission_as_data_error(v027):
            count = dataset_delete(tenant=request.user, ids=None if everything else body.ids or [])
        return Response(ok({"success_count": count}) if v027 else None)


class DatasetApi(APIView):
    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        """One dataset (v0.27), with the total size of its documents and its connectors."""
        try:
            dataset_id = uuid_hex(dataset_id)
        except PydanticCustomError as exc:
            raise DataError("Invalid Dataset ID") from exc
        dataset = dataset_get_visible_or_raise(
            request.user,
            dataset_id,
            error=DataError(
                f"User '{request.user.pk}' lacks permission for dataset '{dataset_id}'"
            ),
        )
        return Response({**dataset_out(dataset), "size": dataset_size(dataset)})

    def put(self, request: ApiRequest, dataset_id: str) -> Response:
        v027 = is_v027(request)
        try:
            dataset_id = uuid_hex(dataset_id) if v027 else uuid1_hex(dataset_id)
        except PydanticCustomError as exc:
            text = "Invalid UUID format" if v027 else "Invalid UUID1 format"
            raise ArgumentError(
                f"Field: <dataset_id> - Message: <{text}> - Value: <{dataset_id}>"
            ) from exc
        payload = strict_json_object(request)
        _drop_unchanged_legacy_counters(request, dataset_id, payload)
        body = validate(DatasetUpdateIn, payload)
        sent = body.model_dump(include=body.model_fields_set)
        if not sent:
            if v027:
                raise DataError("no properties were modified")
            raise ArgumentError("No properties were modified")
        for key in ("parser_config", "ext", "parse_type", "pipeline_id", "auto_metadata_config"):
            sent.pop(key, None)
        if body.auto_metadata_config is not None:
            sent["metadata_config"] = body.auto_metadata_config.model_dump()
        changes = DatasetChanges(values=sent, parser_config=body.parser_config)
        with permission_as_data_error(v027):
            dataset = dataset_update(tenant=request.user, dataset_id=dataset_id, changes=changes)
        return Response(dataset_out(dataset))


def _drop_unchanged_legacy_counters(
    request: ApiRequest, dataset_id: str, payload: dict[str, Any]
) -> None:
    present = [key for key in _LEGACY_COUNTERS if key in payload]
    if not present:
        return
    dataset = dataset_get_owned(request.user, dataset_id)
    if dataset is None:
        return
    for key in present:
        if payload[key] == getattr(dataset, key):
            del payload[key]
