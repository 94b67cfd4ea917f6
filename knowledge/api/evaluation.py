"""ragsite's own evaluation routes (not RAGFlow's): questions kept with a dataset, and their scores.

GET    /api/v1/ragsite/datasets/{id}/evaluation/questions
POST   /api/v1/ragsite/datasets/{id}/evaluation/questions   {question, document_ids?, chunk_ids?}
DELETE /api/v1/ragsite/datasets/{id}/evaluation/questions   {ids: [...]} | {delete_all: true}
POST   /api/v1/ragsite/datasets/{id}/evaluation             {vector_similarity_weight?, weights?, thresholds?}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.models import EvaluationQuestion
from knowledge.services import evaluation as services
from ragsite.api.auth import ApiRequest
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError
from ragsite.api.parsing import bulk_delete_ids, json_body, validate


def _ids(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArgumentError(f"`{name}` should be a list of ids.")
    return value


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    document_ids: list[str] = []
    chunk_ids: list[str] = []

    @field_validator("document_ids", "chunk_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any, info: Any) -> list[str]:
        return _ids(value, info.field_name)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vector_similarity_weight: float | None = None
    weights: list[float] | None = None
    thresholds: list[float] | None = None


def question_out(item: EvaluationQuestion) -> dict[str, Any]:
    return {
        "id": item.id,
        "dataset_id": item.dataset_id,
        "question": item.question,
        "document_ids": list(item.document_ids),
        "chunk_ids": list(item.chunk_ids),
        "create_time": int(item.created_at.timestamp() * 1000),
    }


class EvaluationQuestionsApi(APIView):
    def get(self, request: ApiRequest, dataset_id: str) -> Response:
        items = services.evaluation_questions(user=request.user, dataset_id=dataset_id)
        return Response(ok([question_out(q) for q in items], total=len(items)))

    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        body = validate(QuestionIn, json_body(request))
        item = services.evaluation_question_create(
            user=request.user,
            dataset_id=dataset_id,
            question=body.question,
            document_ids=body.document_ids,
            chunk_ids=body.chunk_ids,
        )
        return Response(ok(question_out(item)))

    def delete(self, request: ApiRequest, dataset_id: str) -> Response:
        ids = bulk_delete_ids(json_body(request))
        count = services.evaluation_question_delete(
            user=request.user, dataset_id=dataset_id, ids=ids
        )
        return Response(ok({"success_count": count}))


class EvaluationApi(APIView):
    def post(self, request: ApiRequest, dataset_id: str) -> Response:
        body = validate(RunIn, json_body(request), strict=False)
        report = services.evaluation_run(
            user=request.user,
            dataset_id=dataset_id,
            vector_similarity_weight=body.vector_similarity_weight,
            weights=body.weights,
            thresholds=body.thresholds,
        )
        return Response(ok(services.report_out(report)))
