"""Building, reading and wiping a dataset's knowledge graph (RAGFlow's GraphRAG).

A build reads the dataset's available chunks in order and asks the chat model for each one's
entities and relations (`knowledge.graph.prompts`), a batch of chunks at a time. The asking
goes through the enrichment session of the job that runs the build: it counts calls and tokens
against the dataset's limits and keeps every answer as soon as it arrives, so a build that
stopped (cancelled, its worker killed, over budget) resumes without asking again, and a rebuild
asks only about chunks whose text changed. A failure names the chunk and carries the
provider's message.

When every chunk is read, the extractions are merged, alike entities resolved (parser_config
`graphrag.resolution`), communities found and reported (`graphrag.community`), entities
embedded with the dataset's embedding model, and the graph replaces the old one in one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import Value

from knowledge import embeddings, fulltext
from knowledge.enrichment.session import Ask
from knowledge.graph import communities as community_logic
from knowledge.graph import resolution as resolution_logic
from knowledge.graph.extraction import Entity, Extraction, Relation, merge, parse_extraction
from knowledge.graph.prompts import community_prompt, extraction_prompt, resolution_prompt
from knowledge.models import Chunk, Dataset, GraphCommunity, GraphEntity, GraphRelation
from knowledge.parser_config import DEFAULT_ENTITY_TYPES

Report = Callable[[float, str], None]
ShouldStop = Callable[[], bool]

# Where each stage's progress ends: extraction is most of the work.
_EXTRACTED, _RESOLVED, _REPORTED = 0.8, 0.85, 0.95
_EMBED_CHARS = 300
# Chunks asked about between two progress reports and cancel checks.
EXTRACTION_BATCH = 8
# Room for an extraction answer; entity-dense chunks need long ones.
EXTRACTION_MAX_TOKENS = 2048
REPORT_MAX_TOKENS = 1024


class Asker(Protocol):
    """What a build needs of the enrichment session: answers to prompts, in order."""

    def ask_many(self, asks: Sequence[Ask]) -> list[str]: ...


class GraphBuildError(Exception):
    """A build step failed; `message` says which step and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GraphBuildStopped(Exception):
    """The build was cancelled between two steps; the answers it got stay kept."""


@dataclass(frozen=True)
class GraphSettings:
    method: str
    entity_types: list[str]
    resolution: bool
    community: bool
    language: str

    @classmethod
    def of(cls, dataset: Dataset) -> GraphSettings:
        config = (dataset.parser_config or {}).get("graphrag") or {}
        method = "general" if config.get("method") == "general" else "light"
        types = [str(t) for t in config.get("entity_types") or [] if str(t).strip()]
        return cls(
            method=method,
            entity_types=types or list(DEFAULT_ENTITY_TYPES),
            resolution=bool(config.get("resolution", False)),
            community=bool(config.get("community", False)),
            language=dataset.language or "English",
        )


@dataclass
class BuildSummary:
    chunks: int = 0
    entities: int = 0
    relations: int = 0
    merged: int = 0  # entities resolution folded into others
    communities: int = 0


def _user(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def extract_chunks(
    dataset: Dataset,
    *,
    asker: Asker,
    report: Report,
    should_stop: ShouldStop,
    settings: GraphSettings,
    summary: BuildSummary,
) -> list[Extraction]:
    """Every available chunk's entities and relations, in chunk order (passages only, not
    RAPTOR summaries)."""
    chunks = list(
        Chunk.objects.filter(dataset=dataset, available=True, raptor_level=0)
        .order_by("document__created_at", "document_id", "ordinal", "id")
        .values_list("id", "document__name", "content")
    )
    summary.chunks = len(chunks)
    results: list[Extraction] = []
    for start in range(0, len(chunks), EXTRACTION_BATCH):
        if should_stop():
            raise GraphBuildStopped()
        batch = chunks[start : start + EXTRACTION_BATCH]
        asks = [
            Ask(
                messages=_user(
                    extraction_prompt(
                        content,
                        method=settings.method,
                        entity_types=settings.entity_types,
                        language=settings.language,
                    )
                ),
                label=f"Chunk {chunk_id} of document {name!r}",
                max_tokens=EXTRACTION_MAX_TOKENS,
                temperature=0.0,
            )
            for chunk_id, name, content in batch
        ]
        answers = asker.ask_many(asks)
        for (chunk_id, _name, _content), answer in zip(batch, answers, strict=True):
            results.append(
                parse_extraction(answer, chunk_id=chunk_id, entity_types=settings.entity_types)
            )
        done = start + len(batch)
        found = sum(len(r.entities) for r in results[-len(batch) :])
        report(
            _EXTRACTED * done / max(len(chunks), 1),
            f"Read {done}/{len(chunks)} chunks ({found} entities in the last {len(batch)}).",
        )
    return results


def resolve_entities(
    entities: dict[str, Entity],
    relations: dict[tuple[str, str], Relation],
    *,
    asker: Asker,
    should_stop: ShouldStop,
) -> int:
    """Ask the model about alike names and merge the ones it says are one; returns how many
    entities were folded into others."""
    batches = [
        (etype, pairs[start : start + resolution_logic.MAX_PAIRS_PER_PROMPT])
        for etype, pairs in resolution_logic.candidate_pairs(entities.values()).items()
        for start in range(0, len(pairs), resolution_logic.MAX_PAIRS_PER_PROMPT)
    ]
    if not batches:
        return 0
    if should_stop():
        raise GraphBuildStopped()
    answers = asker.ask_many(
        [
            Ask(
                messages=_user(resolution_prompt(etype, batch)),
                label=f"Entity resolution ({etype}, {len(batch)} pairs)",
                max_tokens=REPORT_MAX_TOKENS,
                temperature=0.0,
            )
            for etype, batch in batches
        ]
    )
    same = [
        batch[i - 1]
        for (_etype, batch), answer in zip(batches, answers, strict=True)
        for i in sorted(resolution_logic.parse_answers(answer, len(batch)))
    ]
    groups = resolution_logic.merge_groups(same)
    return len(resolution_logic.apply_merges(entities, relations, groups))


@dataclass
class _Community:
    members: list[str]
    report: community_logic.Report
    weight: float


def report_communities(
    entities: dict[str, Entity],
    relations: list[Relation],
    rank: dict[str, float],
    graph: Any,
    *,
    asker: Asker,
    should_stop: ShouldStop,
    language: str,
) -> list[_Community]:
    """Each community's report. A community weighs the relations of its entities (RAGFlow's
    sum of ranks), the heaviest 1."""
    groups = community_logic.detect(graph)
    if not groups:
        return []
    if should_stop():
        raise GraphBuildStopped()
    asks = []
    for number, members in enumerate(groups, start=1):
        entity_rows, relation_rows = community_logic.report_inputs(
            members, entities, relations, rank
        )
        asks.append(
            Ask(
                messages=_user(community_prompt(entity_rows, relation_rows, language=language)),
                label=f"Community report {number}/{len(groups)} ({', '.join(members[:3])}…)",
                max_tokens=REPORT_MAX_TOKENS,
                temperature=0.0,
            )
        )
    answers = asker.ask_many(asks)
    weights = [float(sum(graph.degree(n) for n in members)) for members in groups]
    heaviest = max(weights) or 1.0
    found = []
    for number, (members, answer, weight) in enumerate(
        zip(groups, answers, weights, strict=True), start=1
    ):
        report = community_logic.parse_report(answer)
        if report is None:
            raise GraphBuildError(
                f"Community report {number}/{len(groups)}: the chat model's answer is not a "
                f"JSON report: {answer[:200]!r}"
            )
        found.append(_Community(members, report, weight / heaviest))
    return found


def _embed_entities(dataset: Dataset, entities: list[Entity]) -> list[list[float] | None]:
    if not entities:
        return []
    texts = [f"{e.name}: {e.description[:_EMBED_CHARS]}" for e in entities]
    try:
        vectors = embeddings.embed_texts(dataset.embedding_model, texts)
    except embeddings.EmbeddingError as exc:
        raise GraphBuildError(f"Embedding the entities: {exc}") from exc
    return [list(map(float, v)) for v in vectors]


def graph_build(
    *,
    dataset: Dataset,
    asker: Asker,
    report: Report | None = None,
    should_stop: ShouldStop | None = None,
) -> BuildSummary:
    """Build (or bring up to date) `dataset`'s knowledge graph; see the module docstring."""
    say: Report = report or (lambda fraction, message: None)
    stop: ShouldStop = should_stop or (lambda: False)
    settings = GraphSettings.of(dataset)
    summary = BuildSummary()
    extractions = extract_chunks(
        dataset,
        asker=asker,
        report=say,
        should_stop=stop,
        settings=settings,
        summary=summary,
    )
    merged = merge(extractions)
    entities, relations = merged.entities, merged.relations
    say(_EXTRACTED, f"Extracted {len(entities)} entities and {len(relations)} relations.")
    if settings.resolution and entities:
        summary.merged = resolve_entities(entities, relations, asker=asker, should_stop=stop)
        say(_RESOLVED, f"Entity resolution merged {summary.merged} entities.")
    relation_list = sorted(relations.values(), key=lambda r: r.key)
    graph = community_logic.build_graph(list(entities.values()), relation_list)
    rank = community_logic.pageranks(graph)
    reported: list[_Community] = []
    if settings.community and entities:
        reported = report_communities(
            entities,
            relation_list,
            rank,
            graph,
            asker=asker,
            should_stop=stop,
            language=settings.language,
        )
        say(_REPORTED, f"Reported {len(reported)} communities.")
    if stop():
        raise GraphBuildStopped()
    entity_list = sorted(entities.values(), key=lambda e: e.name)
    vectors = _embed_entities(dataset, entity_list)
    document_of = dict(Chunk.objects.filter(dataset=dataset).values_list("id", "document_id"))
    membership: dict[str, list[str]] = {}
    for community in reported:
        for name in community.members:
            membership.setdefault(name, []).append(community.report.title)
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        _replace_graph(
            dataset,
            entity_list,
            vectors,
            relation_list,
            reported,
            rank=rank,
            degree=dict(graph.degree()),
            membership=membership,
            document_of=document_of,
        )
    summary.entities, summary.relations = len(entity_list), len(relation_list)
    summary.communities = len(reported)
    say(
        1.0,
        f"Knowledge graph: {summary.entities} entities, {summary.relations} relations, "
        f"{summary.communities} communities.",
    )
    return summary


def _replace_graph(
    dataset: Dataset,
    entities: list[Entity],
    vectors: list[list[float] | None],
    relations: list[Relation],
    reported: list[_Community],
    *,
    rank: dict[str, float],
    degree: dict[str, int],
    membership: dict[str, list[str]],
    document_of: dict[str, str],
) -> None:
    GraphEntity.objects.filter(dataset=dataset).delete()
    GraphRelation.objects.filter(dataset=dataset).delete()
    GraphCommunity.objects.filter(dataset=dataset).delete()
    rows = []
    for entity, vector in zip(entities, vectors, strict=True):
        rows.append(
            GraphEntity(
                dataset=dataset,
                tenant_id=dataset.tenant_id,
                name=entity.name,
                entity_type=entity.type,
                description=entity.description,
                chunk_ids=entity.chunk_ids,
                document_ids=list(
                    dict.fromkeys(document_of[c] for c in entity.chunk_ids if c in document_of)
                ),
                pagerank=rank.get(entity.name, 0.0),
                degree=degree.get(entity.name, 0),
                communities=membership.get(entity.name, []),
                embedding=vector,
                embedding_dim=len(vector) if vector else 0,
            )
        )
    GraphEntity.objects.bulk_create(rows, batch_size=500)
    for row in rows:
        # Name (A) weighs more than description (B), both segmented as chunks are.
        GraphEntity.objects.filter(pk=row.pk).update(
            search_vector=SearchVector(
                Value(fulltext.segment(row.name)), weight="A", config="simple"
            )
            + SearchVector(Value(fulltext.segment(row.description)), weight="B", config="simple")
        )
    GraphRelation.objects.bulk_create(
        [
            GraphRelation(
                dataset=dataset,
                tenant_id=dataset.tenant_id,
                source=r.source,
                target=r.target,
                description=r.description,
                keywords=r.keywords,
                weight=r.weight,
                chunk_ids=r.chunk_ids,
                document_ids=list(
                    dict.fromkeys(document_of[c] for c in r.chunk_ids if c in document_of)
                ),
            )
            for r in relations
        ],
        batch_size=500,
    )
    GraphCommunity.objects.bulk_create(
        [
            GraphCommunity(
                dataset=dataset,
                tenant_id=dataset.tenant_id,
                title=c.report.title[:500],
                report=c.report.summary,
                findings=c.report.findings,
                rating=c.report.rating,
                weight=c.weight,
                entities=c.members,
            )
            for c in reported
        ]
    )


def graph_wipe(*, dataset: Dataset) -> None:
    """Remove the dataset's graph (the kept answers stay: a rebuild costs nothing)."""
    with transaction.atomic():
        GraphEntity.objects.filter(dataset=dataset).delete()
        GraphRelation.objects.filter(dataset=dataset).delete()
        GraphCommunity.objects.filter(dataset=dataset).delete()
