"""The knowledge-graph chunk: what the graph knows about a question, as RAGFlow writes it.

RAGFlow's KGSearch puts one chunk first in the results, named "Related content in Knowledge
Graph", whose text is the matched entities and relations as CSV tables (pandas' `to_csv`, the
row number first) followed by the community report of those entities.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

KG_DOCUMENT_NAME = "Related content in Knowledge Graph"


@dataclass
class EntityLine:
    name: str
    score: float
    description: str


@dataclass
class RelationLine:
    source: str
    target: str
    score: float
    description: str


@dataclass
class CommunityLine:
    title: str
    report: str
    evidences: str


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *header])
    for index, row in enumerate(rows):
        writer.writerow([index, *row])
    return out.getvalue()


def kg_text(
    entities: Sequence[EntityLine],
    relations: Sequence[RelationLine],
    communities: Sequence[CommunityLine],
) -> str:
    """The chunk's text; "" when the graph has nothing for the question."""
    parts = []
    if entities:
        entity_rows = [(e.name, f"{e.score:.2f}", e.description) for e in entities]
        parts.append(
            "\n---- Entities ----\n" + _table(("Entity", "Score", "Description"), entity_rows)
        )
    if relations:
        relation_rows = [(r.source, r.target, f"{r.score:.2f}", r.description) for r in relations]
        relation_header = ("From Entity", "To Entity", "Score", "Description")
        parts.append("\n---- Relations ----\n" + _table(relation_header, relation_rows))
    if communities:
        reports = [
            f"# {i}. {c.title}\n## Content\n{c.report}\n## Evidences\n{c.evidences}\n"
            for i, c in enumerate(communities, start=1)
        ]
        parts.append("\n---- Community Report ----\n" + "\n".join(reports))
    return "".join(parts)
