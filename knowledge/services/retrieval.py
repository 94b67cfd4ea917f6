"""POST /api/v1/retrieval's rules (contract §4.6) around knowledge.retrieval's ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from knowledge import crosslingual, embeddings, rerank
from knowledge.metadata_filter import matching_documents
from knowledge.models import Dataset, Document
from knowledge.retrieval import Query, Result, Scope, retrieve
from knowledge.selectors import dataset_get_visible
from knowledge.services.graph_search import graph_hit
from knowledge.services.toc_search import toc_enhance
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError


@dataclass
class RetrievalRequest:
    question: str
    dataset_ids: list[str]
    document_ids: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = 30
    similarity_threshold: float = 0.2
    vector_similarity_weight: float = 0.3
    top_k: int = 1024
    rerank_id: str | None = None
    highlight: bool = True
    conditions: list[dict[str, Any]] = field(default_factory=list)
    # How the metadata conditions combine: "and" (all must hold) or "or" (v0.27: any).
    logic: str = "and"
    # Put the knowledge-graph chunk first (RAGFlow's `use_kg`), when the datasets have a graph.
    use_kg: bool = False
    # Add the chunks of the relevant table-of-contents sections (RAGFlow's `toc_enhance`).
    toc_enhance: bool = False


def _model_name(model_id: str) -> str:
    return model_id.rsplit("@", 1)[0]


def retrieval_run(*, user: User, request: RetrievalRequest) -> Result | None:
    """Check access and filters, then rank. None means "empty question": nothing to search."""
    datasets: list[Dataset] = []
    for dataset_id in request.dataset_ids:
        dataset = dataset_get_visible(user, dataset_id)
        if dataset is None:
            raise DataError(f"You don't own the dataset {dataset_id}.")
        datasets.append(dataset)
    if len({_model_name(d.embedding_model) for d in datasets}) > 1:
        raise DataError('Datasets use different embedding models."')
    ids = [d.pk for d in datasets]
    for document_id in request.document_ids:
        if not Document.objects.filter(pk=document_id, dataset_id__in=ids).exists():
            raise DataError(f"The datasets don't own the document {document_id}")
    if request.top_k <= 0:
        raise ArgumentError(f"`top_k` must be positive, got {request.top_k}.")
    if len(request.question) > settings.RAGSITE_MAX_QUESTION_CHARS:
        raise ArgumentError(
            f"`question` is too long: at most {settings.RAGSITE_MAX_QUESTION_CHARS} characters."
        )
    if not request.question.strip():
        return None

    document_ids = list(request.document_ids)
    if not document_ids and request.conditions:
        candidates = Document.objects.filter(dataset_id__in=ids).values_list("pk", "meta_fields")
        document_ids = matching_documents(candidates, request.conditions, logic=request.logic)
        if not document_ids:
            # A filter that matches nothing returns nothing (RAGFlow would search everything).
            return Result([], 0, [])
    # Disabled documents need no filter here: their chunks are stored unavailable.
    reranker = rerank.get_reranker(request.rerank_id) if request.rerank_id else None
    model_id = datasets[0].embedding_model
    try:
        vector = crosslingual.embed_question(model_id, request.question).tolist()
    except embeddings.EmbeddingError as exc:
        raise DataError(str(exc)) from exc
    query = Query(
        question=request.question,
        scope=Scope(ids, document_ids or None),
        embedding=vector,
        vector_similarity_weight=request.vector_similarity_weight,
        similarity_threshold=request.similarity_threshold,
        top_k=request.top_k,
        page=request.page,
        page_size=request.page_size,
        highlight=request.highlight,
        pagerank={d.pk: d.pagerank for d in datasets},
        rerank=reranker,
    )
    try:
        result = retrieve(query, total_chunks=sum(d.chunk_count for d in datasets))
    except rerank.RerankError as exc:
        raise DataError(str(exc)) from exc
    if request.toc_enhance:
        toc_enhance(result, datasets=datasets, question=request.question, size=request.page_size)
    if request.use_kg:
        # As RAGFlow: first in the page, the total unchanged.
        kg = graph_hit(ids, request.question, vector)
        if kg is not None:
            result.hits.insert(0, kg)
    return result
