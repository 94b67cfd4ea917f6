"""Knowledge-graph routes (contract §9; v0.27 §3.4), thin over the graph selector and the
enrichment jobs (knowledge.api.index has the shared index routes):

- GET/DELETE /datasets/{id}/knowledge_graph (v0.22): the graph; wipe it, `data: true` (R7);
- GET /datasets/{id}/graph (v0.27): the graph; DELETE: cancel the job, wipe unless `wipe=false`;
- POST /datasets/{id}/run_graphrag (v0.22): `{"graphrag_task_id", "task_id"}` (R7);
- GET /datasets/{id}/trace_graphrag (v0.22): the task row, or `{}`.
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.index import _dataset, _delete, _trace
from knowledge.enrichment.jobs import job_cancel, job_start
from knowledge.selectors import dataset_get_visible, dataset_graph
from ragsite.api.auth import ApiRequest
from ragsite.api.codes import RetCode
from ragsite.api.envelope import ok, ok_with_message
from ragsite.api.errors import ServiceError

KIND = "graphrag"


def _graph_data(dataset_graph_value: dict[str, object]) -> dict[str, object]:
    return {"graph": dataset_graph_value, "mind_map": {}}


class KnowledgeGraphApi(APIView):
    """GET/DELETE /datasets/{id}/knowledge_graph (v0.22)."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        return Response(ok(_graph_data(dataset_graph(dataset))))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        job_cancel(dataset=dataset, kind=KIND, wipe=True)
        return Response(ok(True))


class GraphApi(APIView):
    """GET/DELETE /datasets/{id}/graph (v0.27)."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = dataset_get_visible(request.user, dataset_id)
        if dataset is None:
            raise ServiceError("no authorization", code=RetCode.AUTHENTICATION_ERROR)
        return Response(ok(_graph_data(dataset_graph(dataset))))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        return _delete(request, dataset_id, KIND)


class RunGraphragApi(APIView):
    """POST /datasets/{id}/run_graphrag (v0.22)."""

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        job = job_start(dataset=dataset, kind=KIND)
        return Response(ok_with_message({"graphrag_task_id": job.pk, "task_id": job.pk}))


class TraceGraphragApi(APIView):
    """GET /datasets/{id}/trace_graphrag (v0.22)."""

    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        dataset = _dataset(request, dataset_id, old_route=True)
        return Response(ok(_trace(dataset, KIND)))
