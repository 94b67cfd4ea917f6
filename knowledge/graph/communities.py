"""Communities of a knowledge graph (Louvain modularity, networkx) and their reports.

RAGFlow runs hierarchical Leiden; networkx 3.6 has Louvain, the method Leiden refines, and
one level of it is what retrieval reads (the community of the entities a question matched).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from knowledge.graph.extraction import Entity, Relation

# Entities and relations shown in one report prompt, the best-ranked first.
MAX_REPORT_ENTITIES = 40
MAX_REPORT_RELATIONS = 60


def build_graph(entities: Sequence[Entity], relations: Sequence[Relation]) -> nx.Graph:
    graph = nx.Graph()
    for entity in entities:
        graph.add_node(entity.name)
    for relation in relations:
        if relation.source in graph and relation.target in graph:
            graph.add_edge(relation.source, relation.target, weight=max(relation.weight, 0.0))
    return graph


def pageranks(graph: nx.Graph) -> dict[str, float]:
    """Each entity's PageRank (weighted by relation strength); {} for an empty graph."""
    if graph.number_of_nodes() == 0:
        return {}
    return dict(nx.pagerank(graph, weight="weight"))


def detect(graph: nx.Graph, *, seed: int = 0) -> list[list[str]]:
    """Communities of two or more entities, the largest first (names sorted within)."""
    connected = graph.subgraph([n for n in graph if graph.degree(n) > 0])
    if connected.number_of_edges() == 0:
        return []
    found = nx.community.louvain_communities(connected, weight="weight", seed=seed)
    groups = [sorted(c) for c in found if len(c) >= 2]
    return sorted(groups, key=lambda g: (-len(g), g))


@dataclass
class Report:
    title: str
    summary: str
    rating: float
    rating_explanation: str = ""
    findings: list[dict[str, str]] = field(default_factory=list)

    @property
    def evidences(self) -> str:
        return "\n".join(f.get("explanation", "") for f in self.findings if f.get("explanation"))


def report_inputs(
    members: Sequence[str],
    entities: dict[str, Entity],
    relations: Sequence[Relation],
    rank: dict[str, float],
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The (name, description) and (source, target, description) rows of one report prompt."""
    inside = set(members)
    ordered = sorted(members, key=lambda n: (-rank.get(n, 0.0), n))[:MAX_REPORT_ENTITIES]
    entity_rows = [(n, entities[n].description) for n in ordered if n in entities]
    among = [r for r in relations if r.source in inside and r.target in inside]
    among.sort(key=lambda r: (-r.weight, r.source, r.target))
    relation_rows = [(r.source, r.target, r.description) for r in among[:MAX_REPORT_RELATIONS]]
    return entity_rows, relation_rows


def parse_report(answer: str) -> Report | None:
    """The JSON report in a model's answer (code fences and chatter around it allowed)."""
    answer = re.sub(r"^.*</think>", "", answer, flags=re.DOTALL)
    start, end = answer.find("{"), answer.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data: Any = json.loads(answer[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict) or not str(data.get("title") or "").strip():
        return None
    try:
        rating = float(data.get("rating") or 0.0)
    except (TypeError, ValueError):
        rating = 0.0
    findings = [
        {"summary": str(f.get("summary", "")), "explanation": str(f.get("explanation", ""))}
        for f in data.get("findings") or []
        if isinstance(f, dict)
    ]
    return Report(
        title=str(data["title"]).strip(),
        summary=str(data.get("summary") or "").strip(),
        rating=rating,
        rating_explanation=str(data.get("rating_explanation") or "").strip(),
        findings=findings,
    )
