"""A dataset's evaluation questions, and scoring its retrieval on them under many settings.

Each question is embedded once; the ranking then runs through `knowledge.retrieval.retrieve`,
exactly as `POST /api/v1/retrieval` and the chat assistants use it, once per semantic weight
in the sweep. Thresholds need no extra queries: a threshold keeps a prefix-ordered subset of
the hits, so they are applied to the hits of the chosen weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from knowledge import crosslingual, embeddings
from knowledge import evaluation as metrics
from knowledge.models import Chunk, Dataset, Document, EvaluationQuestion
from knowledge.retrieval import Query, Scope, retrieve
from knowledge.selectors import dataset_get_owned_or_raise, dataset_get_visible_or_raise
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError

DEFAULT_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
DEFAULT_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
# Hits fetched per question and weight: enough for k = 10 documents after dedupe.
_FETCH = 50


def evaluation_questions(*, user: User, dataset_id: str) -> list[EvaluationQuestion]:
    dataset = dataset_get_visible_or_raise(user, dataset_id)
    return list(dataset.evaluation_questions.all())


def _clean_ids(dataset: Dataset, *, document_ids: list[str], chunk_ids: list[str]) -> None:
    """Every id must name a document or chunk of this dataset (never another tenant's)."""
    documents = set(document_ids)
    found = set(
        Document.objects.filter(dataset=dataset, pk__in=documents).values_list("pk", flat=True)
    )
    if missing := sorted(documents - found):
        raise DataError(f"The dataset doesn't own the document {missing[0]}.")
    chunks = set(chunk_ids)
    found = set(Chunk.objects.filter(dataset=dataset, pk__in=chunks).values_list("pk", flat=True))
    if missing := sorted(chunks - found):
        raise DataError(f"The dataset doesn't own the chunk {missing[0]}.")


def evaluation_question_create(
    *, user: User, dataset_id: str, question: str, document_ids: list[str], chunk_ids: list[str]
) -> EvaluationQuestion:
    dataset = dataset_get_owned_or_raise(user, dataset_id)
    question = question.strip()
    if not question:
        raise ArgumentError("`question` is required.")
    if len(question) > settings.RAGSITE_MAX_QUESTION_CHARS:
        raise ArgumentError(
            f"`question` is too long: at most {settings.RAGSITE_MAX_QUESTION_CHARS} characters."
        )
    document_ids = list(dict.fromkeys(document_ids))
    chunk_ids = list(dict.fromkeys(chunk_ids))
    if not document_ids and not chunk_ids:
        raise ArgumentError("Name the documents or chunks that answer the question.")
    _clean_ids(dataset, document_ids=document_ids, chunk_ids=chunk_ids)
    with transaction.atomic():
        # Lock the dataset so two concurrent adds cannot both pass the limit.
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        if dataset.evaluation_questions.count() >= settings.RAGSITE_MAX_EVALUATION_QUESTIONS:
            raise ArgumentError(
                "A knowledge base keeps at most "
                f"{settings.RAGSITE_MAX_EVALUATION_QUESTIONS} evaluation questions."
            )
        return EvaluationQuestion.objects.create(
            dataset=dataset, question=question, document_ids=document_ids, chunk_ids=chunk_ids
        )


def evaluation_question_delete(*, user: User, dataset_id: str, ids: list[str] | None) -> int:
    """Delete the named questions (all of them for `ids=None`); returns how many went."""
    dataset = dataset_get_owned_or_raise(user, dataset_id)
    questions = dataset.evaluation_questions.all()
    if ids is not None:
        questions = questions.filter(pk__in=[str(i) for i in ids])
    count, _ = questions.delete()
    return count


@dataclass
class Sweep:
    """nDCG/recall/MRR at one setting, over all questions."""

    setting: float
    summary: metrics.Summary


@dataclass
class Report:
    dataset_id: str
    k: int
    vector_similarity_weight: float
    similarity_threshold: float
    questions: list[EvaluationQuestion]
    weights: list[Sweep] = field(default_factory=list)
    thresholds: list[Sweep] = field(default_factory=list)

    def at_weight(self, weight: float) -> metrics.Summary:
        return next(s.summary for s in self.weights if s.setting == weight)

    @property
    def best_weight(self) -> float | None:
        if not self.weights or not self.questions:
            return None
        return max(self.weights, key=lambda s: (s.summary.ndcg, -abs(s.setting - 0.3))).setting

    @property
    def best_threshold(self) -> float | None:
        """The highest threshold that loses no nDCG against the best one (it trims noise)."""
        if not self.thresholds or not self.questions:
            return None
        top = max(s.summary.ndcg for s in self.thresholds)
        return max(s.setting for s in self.thresholds if s.summary.ndcg >= top - 1e-9)


def _settings_list(
    values: list[float] | None, default: tuple[float, ...], name: str
) -> list[float]:
    chosen = list(default) if values is None else values
    if not chosen or len(chosen) > 21:
        raise ArgumentError(f"`{name}` takes 1 to 21 values.")
    if any(not 0 <= v <= 1 for v in chosen):
        raise ArgumentError(f"`{name}` values must be between 0 and 1.")
    return sorted(set(chosen))


def evaluation_run(
    *,
    user: User,
    dataset_id: str,
    vector_similarity_weight: float | None = None,
    weights: list[float] | None = None,
    thresholds: list[float] | None = None,
) -> Report:
    """Score the dataset's retrieval on its questions across weights and thresholds.

    `vector_similarity_weight` (default: the dataset's own) is the hybrid setting the threshold
    sweep and the per-question table use; it is always part of the weight sweep.
    """
    dataset = dataset_get_visible_or_raise(user, dataset_id)
    chosen = (
        dataset.vector_similarity_weight
        if vector_similarity_weight is None
        else vector_similarity_weight
    )
    if not 0 <= chosen <= 1:
        raise ArgumentError("`vector_similarity_weight` must be between 0 and 1.")
    weight_list = sorted({*_settings_list(weights, DEFAULT_WEIGHTS, "weights"), chosen})
    threshold_list = _settings_list(thresholds, DEFAULT_THRESHOLDS, "thresholds")
    questions = list(dataset.evaluation_questions.all())
    report = Report(
        dataset_id=dataset.pk,
        k=metrics.K,
        vector_similarity_weight=chosen,
        similarity_threshold=dataset.similarity_threshold,
        questions=questions,
    )
    ranked: dict[float, list[list[metrics.RankedHit]]] = {w: [] for w in weight_list}
    for item in questions:
        try:
            vector = crosslingual.embed_question(dataset.embedding_model, item.question).tolist()
        except embeddings.EmbeddingError as exc:
            raise DataError(str(exc)) from exc
        for weight in weight_list:
            ranked[weight].append(_rank(dataset, item.question, vector, weight))
    judgements = [
        metrics.Judgement(frozenset(q.document_ids), frozenset(q.chunk_ids)) for q in questions
    ]
    for weight in weight_list:
        scores = [metrics.score(h, j) for h, j in zip(ranked[weight], judgements, strict=True)]
        report.weights.append(Sweep(weight, metrics.summarise(scores)))
    for threshold in threshold_list:
        scores = [
            metrics.score(metrics.above(h, threshold), j)
            for h, j in zip(ranked[chosen], judgements, strict=True)
        ]
        report.thresholds.append(Sweep(threshold, metrics.summarise(scores)))
    return report


def _rank(
    dataset: Dataset, question: str, vector: list[float], weight: float
) -> list[metrics.RankedHit]:
    query = Query(
        question=question,
        scope=Scope([dataset.pk]),
        embedding=vector,
        vector_similarity_weight=weight,
        similarity_threshold=0.0,
        page=1,
        page_size=_FETCH,
        highlight=False,
        pagerank={dataset.pk: dataset.pagerank},
    )
    result = retrieve(query, total_chunks=dataset.chunk_count)
    return [metrics.RankedHit(h.id, h.document_id, h.similarity) for h in result.hits]


def report_out(report: Report) -> dict[str, Any]:
    """The report as the API answers it."""

    def summary(s: metrics.Summary) -> dict[str, float]:
        return {
            "ndcg": round(s.ndcg, 4),
            "recall": round(s.recall, 4),
            "mrr": round(s.mrr, 4),
            "empty_share": round(s.empty_share, 4),
        }

    hybrid = report.at_weight(report.vector_similarity_weight)
    keyword = report.at_weight(0.0) if 0.0 in {s.setting for s in report.weights} else None
    vector = report.at_weight(1.0) if 1.0 in {s.setting for s in report.weights} else None
    per_question = []
    for index, question in enumerate(report.questions):
        row: dict[str, Any] = {"id": question.id, "question": question.question}
        for name, s in (("keyword", keyword), ("vector", vector), ("hybrid", hybrid)):
            if s is not None:
                one = s.scores[index]
                row[name] = {"ndcg": round(one.ndcg, 4), "first_relevant": one.first_relevant}
        per_question.append(row)
    return {
        "dataset_id": report.dataset_id,
        "k": report.k,
        "question_count": len(report.questions),
        "vector_similarity_weight": report.vector_similarity_weight,
        "similarity_threshold": report.similarity_threshold,
        "legs": {
            name: summary(s)
            for name, s in (("keyword", keyword), ("vector", vector), ("hybrid", hybrid))
            if s is not None
        },
        "weights": [
            {"vector_similarity_weight": s.setting, **summary(s.summary)} for s in report.weights
        ],
        "thresholds": [
            {"similarity_threshold": s.setting, **summary(s.summary)} for s in report.thresholds
        ],
        "best": {
            "vector_similarity_weight": report.best_weight,
            "similarity_threshold": report.best_threshold,
        },
        "questions": per_question,
    }
