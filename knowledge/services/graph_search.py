"""What a dataset's knowledge graph knows about a question: RAGFlow's knowledge-graph chunk.

With `use_kg`, retrieval (and a chat whose prompt_config has `use_kg`) puts one chunk first:
the entities the question is about, the relations up to two hops from them, and the report of
their community (`knowledge.graph.context`). RAGFlow asks the chat model to pick the question's
entities; here they are found without a model call, by keyword and vector:

- an entity matches by name when the question holds its name's words (the share of them), by
  meaning when the cosine of the question and the entity (name and description) is at least
  ENTITY_MIN_COSINE; its similarity is the better of the two, at least ENTITY_MIN_SIMILARITY;
- relations of a matched entity score its similarity / 2, relations one entity further / 3
  (RAGFlow's n-hop paths), so an answer two relations away is reached;
- at most 6 entities (the matched ones, then their neighbours), 6 relations and 1 community
  report, as RAGFlow's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from knowledge import fulltext
from knowledge.graph.context import (
    KG_DOCUMENT_NAME,
    CommunityLine,
    EntityLine,
    RelationLine,
    kg_text,
)
from knowledge.models import GraphCommunity, GraphEntity, GraphRelation
from knowledge.retrieval import Hit, graph_entity_candidates
from ragsite.ids import new_id

ENTITY_TOP_N = 6
RELATION_TOP_N = 6
COMMUNITY_TOP_N = 1
ENTITY_MIN_SIMILARITY = 0.3
ENTITY_MIN_COSINE = 0.5


@dataclass
class _Match:
    name: str
    dataset_id: str
    similarity: float
    pagerank: float
    description: str


def _name_share(name: str, question_terms: set[str]) -> float:
    words = [w for w in fulltext.tokens(name) if not fulltext.is_stop_word(w)]
    if not words:
        return 0.0
    return sum(1 for w in words if w in question_terms) / len(words)


def matched_entities(
    dataset_ids: Sequence[str], question: str, embedding: Sequence[float] | None
) -> list[_Match]:
    """The question's entities, best first."""
    terms = fulltext.query_terms(question)
    rows = graph_entity_candidates(dataset_ids, terms=terms, embedding=embedding)
    question_terms = set(fulltext.tokens(question))
    found = []
    for row in rows:
        by_name = _name_share(row["name"], question_terms)
        cosine = float(row["cosine"] or 0.0)
        by_meaning = cosine if cosine >= ENTITY_MIN_COSINE else 0.0
        similarity = max(by_name, by_meaning)
        if similarity >= ENTITY_MIN_SIMILARITY:
            found.append(
                _Match(
                    row["name"],
                    row["dataset_id"],
                    similarity,
                    float(row["pagerank"] or 0.0),
                    row["description"],
                )
            )
    found.sort(key=lambda m: (-m.similarity, -m.pagerank, m.name))
    return found


def _relations_of(dataset_ids: Sequence[str], names: set[str]) -> list[GraphRelation]:
    if not names:
        return []
    return list(
        GraphRelation.objects.filter(dataset_id__in=list(dataset_ids)).filter(
            Q(source__in=names) | Q(target__in=names)
        )
    )


def graph_hit(
    dataset_ids: Sequence[str], question: str, embedding: Sequence[float] | None
) -> Hit | None:
    """The knowledge-graph chunk for `question`, or None when the graph has nothing on it."""
    if not question.strip():
        return None
    if not GraphEntity.objects.filter(dataset_id__in=list(dataset_ids)).exists():
        return None
    matches = matched_entities(dataset_ids, question, embedding)
    if not matches:
        return None
    seeds = {m.name: m for m in matches[:ENTITY_TOP_N]}
    relation_scores: dict[tuple[str, str], tuple[float, GraphRelation]] = {}
    neighbour_scores: dict[str, float] = {}

    def consider(relation: GraphRelation, score: float) -> None:
        key = (relation.source, relation.target)
        known = relation_scores.get(key)
        relation_scores[key] = (score + (known[0] if known else 0.0), relation)

    first = _relations_of(dataset_ids, set(seeds))
    for relation in first:
        for near, far in ((relation.source, relation.target), (relation.target, relation.source)):
            if near in seeds:
                score = seeds[near].similarity / 2
                consider(relation, score)
                if far not in seeds:
                    neighbour_scores[far] = max(neighbour_scores.get(far, 0.0), score)
    for relation in _relations_of(dataset_ids, set(neighbour_scores)):
        if (relation.source, relation.target) in relation_scores:
            continue
        near_score = max(
            neighbour_scores.get(relation.source, 0.0), neighbour_scores.get(relation.target, 0.0)
        )
        consider(relation, near_score * 2 / 3)

    ranked_relations = sorted(
        relation_scores.values(), key=lambda sr: (-sr[0], -sr[1].weight, sr[1].source)
    )[:RELATION_TOP_N]
    entity_lines = [
        EntityLine(m.name, m.similarity * (1 + m.pagerank), m.description) for m in seeds.values()
    ]
    room = ENTITY_TOP_N - len(entity_lines)
    if room > 0 and neighbour_scores:
        names = sorted(neighbour_scores, key=lambda n: (-neighbour_scores[n], n))[:room]
        described = dict(
            GraphEntity.objects.filter(
                dataset_id__in=list(dataset_ids), name__in=names
            ).values_list("name", "description")
        )
        entity_lines += [EntityLine(n, neighbour_scores[n], described.get(n, "")) for n in names]
    relation_lines = [
        RelationLine(r.source, r.target, score * max(r.weight, 1.0), r.description)
        for score, r in ranked_relations
    ]
    community_lines = [
        CommunityLine(c.title, c.report, "\n".join(f.get("explanation", "") for f in c.findings))
        for c in _communities_of(dataset_ids, set(seeds))
    ]
    text = kg_text(entity_lines, relation_lines, community_lines)
    if not text:
        return None
    return Hit(
        id=new_id(),
        content=text,
        content_ltks="",
        document_id="",
        document_name=KG_DOCUMENT_NAME,
        dataset_id=matches[0].dataset_id,
        important_keywords=[],
        questions=[],
        positions=[],
        page_numbers=[],
        similarity=1.0,
        vector_similarity=1.0,
        term_similarity=0.0,
        highlight=text,
    )


def _communities_of(dataset_ids: Sequence[str], names: set[str]) -> list[GraphCommunity]:
    found = [
        c
        for c in GraphCommunity.objects.filter(dataset_id__in=list(dataset_ids)).order_by(
            "-weight", "title"
        )
        if names.intersection(c.entities)
    ]
    return found[:COMMUNITY_TOP_N]
