"""Dataset index jobs (contract §9; v0.27 §3.4): RAGFlow v0.22's run_raptor/trace_raptor and
v0.27's `/datasets/{id}/index?type=…`, thin over knowledge.enrichment.jobs.

INDEX_TYPES maps an API index type to its job kind; a new kind is one line here plus its
runner in knowledge.enrichment.jobs.RUNNERS.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.serializers import enrichment_task_out
from knowledge.enrichment.jobs import job_cancel, job_latest, job_start
from knowledge.models import Dataset
from knowledge.selectors import dataset_get_visible
from ragsite.api.auth import ApiRequest
from ragsite.api.codes import RetCode
from ragsite.api.envelope import ok, ok_with_message
from ragsite.api.errors import ArgumentError, DataError, ServiceError

# API `type` -> job kind.
INDEX_TYPES: dict[str, str] = {
    "raptor": "raptor",
    "graph": "graphrag",
}
_FALSE = {"false", "0", "no", "off"}


def _dataset(request: ApiRequest, dataset_id: str, *, old_route: bool) -> Dataset:
    """The dataset the caller may use; old routes answer 109 `No authorization.`, new ones 102."""
    if not dataset_id:
        raise DataError('Lack of "Dataset ID"')
    dataset = dataset_get_visible(request.user, dataset_id)
    if dataset is None:
        if old_route:
            raise ServiceError("No authorization.", code=RetCode.AUTHENTICATION_ERROR, data=False)
        raise DataError("no authorization")
    return dataset


def _index_type(request: ApiRequest, *, code_error: type[ServiceError] = DataError) -> str:
    value = (request.GET.get("type") or "").strip().lower()
    if value not in INDEX_TYPES:
        supported = ", ".join(sorted(INDEX_TYPES))
        raise code_error(f"Invalid index type '{value}'. Must be one of [{supported}]")
    return INDEX_TYPES[value]


def _trace(dataset: Dataset, kind: str) -> dict[str, object]:
    job = job_latest(dataset, kind)
    return enrichment_task_out(job) if job is not None else {}


class RunRaptorApi(APIView):
    """POST /datasets/{id}/run_raptor (v0.22): `{"raptor_task_id", "task_id"}` (R7)."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        job = job_start(dataset=dataset, kind="raptor")
        return Response(ok_with_message({"raptor_task_id": job.pk, "task_id": job.pk}))


class TraceRaptorApi(APIView):
    """GET /datasets/{id}/trace_raptor (v0.22): the task row, or `{}` before any run."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        if dataset.raptor_task_id and job_latest(dataset, "raptor") is None:
            raise DataError("RAPTOR Task Not Found or Error Occurred")
        return Response(ok(_trace(dataset, "raptor")))


class IndexApi(APIView):
    """POST/GET/DELETE /datasets/{id}/index?type=… (v0.27)."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        kind = _index_type(request)
        dataset = _dataset(request, dataset_id, old_route=False)
        job = job_start(dataset=dataset, kind=kind)
        return Response(ok_with_message({"task_id": job.pk}))

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        kind = _index_type(request)
        dataset = _dataset(request, dataset_id, old_route=False)
        return Response(ok(_trace(dataset, kind)))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        kind = _index_type(request, code_error=ArgumentError)
        return _delete(request, dataset_id, kind)


class IndexTypeApi(APIView):
    """DELETE /datasets/{id}/<type> (v0.27's other spelling of DELETE /index?type=<type>)."""

    index_type = ""

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        return _delete(request, dataset_id, INDEX_TYPES[self.index_type])


def _delete(request: ApiRequest, dataset_id: str, kind: str) -> Response:
    dataset = _dataset(request, dataset_id, old_route=False)
    wipe = (request.GET.get("wipe") or "true").strip().lower() not in _FALSE
    job_cancel(dataset=dataset, kind=kind, wipe=wipe)
    return Response(ok({}))
