"""The chat model's extraction records, parsed and merged into one graph's entities and relations.

As in RAGFlow: names are upper-cased (so "Borealis Labs" and "BOREALIS LABS" are one entity),
an entity whose type is not one of the dataset's entity types is dropped, a relation is kept
only between entities the same text named, and a relation is undirected (its ends sorted).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from knowledge.graph.prompts import COMPLETION_DELIMITER, RECORD_DELIMITER, TUPLE_DELIMITER

# Descriptions of one entity from many chunks are kept one a line, up to this many characters.
MAX_DESCRIPTION_CHARS = 2000
MAX_NAME_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"^[-+]?[0-9]*\.?[0-9]+$")


@dataclass
class Entity:
    name: str
    type: str
    description: str
    chunk_ids: list[str] = field(default_factory=list)


@dataclass
class Relation:
    source: str
    target: str
    description: str
    keywords: list[str] = field(default_factory=list)
    weight: float = 1.0
    chunk_ids: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.target)


@dataclass
class Extraction:
    """What one chunk yielded."""

    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


def clean(value: str) -> str:
    """A field without its quotes, HTML escapes, control characters or extra spaces."""
    value = html.unescape(value.strip())
    value = _CONTROL.sub("", value)
    return " ".join(value.strip().strip('"').strip("'").split())


def entity_key(name: str) -> str:
    """The name an entity is stored and matched under."""
    return clean(name).upper()[:MAX_NAME_CHARS]


def _records(answer: str) -> list[list[str]]:
    answer = re.sub(r"^.*</think>", "", answer, flags=re.DOTALL)
    parts = re.split(
        "|".join(re.escape(m) for m in (RECORD_DELIMITER, COMPLETION_DELIMITER, "\n")), answer
    )
    records = []
    for part in parts:
        found = re.search(r"\((.*)\)", part.strip())
        if found is None:
            continue
        fields = [f.strip() for f in found.group(1).split(TUPLE_DELIMITER)]
        if fields:
            records.append(fields)
    return records


def parse_extraction(answer: str, *, chunk_id: str, entity_types: Sequence[str]) -> Extraction:
    """The entities and relations in one extraction answer (both prompt flavours)."""
    allowed = {t.strip().lower() for t in entity_types if t.strip()}
    result = Extraction()
    for fields in _records(answer):
        kind = clean(fields[0]).lower()
        if kind == "entity" and len(fields) >= 4:
            name = entity_key(fields[1])
            etype = clean(fields[2]).lower()
            if not name or (allowed and etype not in allowed):
                continue
            result.entities.append(Entity(name, etype, clean(fields[3]), [chunk_id]))
        elif kind == "relationship" and len(fields) >= 4:
            source, target = sorted((entity_key(fields[1]), entity_key(fields[2])))
            if not source or not target or source == target:
                continue
            last = clean(fields[-1])
            weight = float(last) if _NUMBER.match(last) and len(fields) >= 5 else 1.0
            keywords: list[str] = []
            if len(fields) >= 6:  # light: description, keywords, strength
                keywords = [k for k in (clean(x) for x in fields[4].split(",")) if k]
            result.relations.append(
                Relation(source, target, clean(fields[3]), keywords, weight, [chunk_id])
            )
        elif kind == "content_keywords" and len(fields) >= 2:
            result.keywords += [k for k in (clean(x) for x in fields[1].split(",")) if k]
    names = {e.name for e in result.entities}
    result.relations = [r for r in result.relations if r.source in names and r.target in names]
    return result


def _join(descriptions: Iterable[str]) -> str:
    unique = list(dict.fromkeys(d for d in descriptions if d))
    text = "\n".join(unique)
    return text[:MAX_DESCRIPTION_CHARS]


@dataclass
class Merged:
    entities: dict[str, Entity]
    relations: dict[tuple[str, str], Relation]


def merge(extractions: Iterable[Extraction]) -> Merged:
    """Many chunks' extractions as one graph: an entity's type is its most frequent one, its
    descriptions are kept one a line; a relation's weights add up."""
    types: dict[str, Counter[str]] = {}
    entities: dict[str, Entity] = {}
    descriptions: dict[str, list[str]] = {}
    relations: dict[tuple[str, str], Relation] = {}
    relation_descriptions: dict[tuple[str, str], list[str]] = {}
    for extraction in extractions:
        for e in extraction.entities:
            types.setdefault(e.name, Counter())[e.type] += 1
            current = entities.setdefault(e.name, Entity(e.name, e.type, "", []))
            current.chunk_ids = list(dict.fromkeys([*current.chunk_ids, *e.chunk_ids]))
            descriptions.setdefault(e.name, []).append(e.description)
        for r in extraction.relations:
            known = relations.get(r.key)
            if known is None:
                relations[r.key] = Relation(r.source, r.target, "", list(r.keywords), r.weight, [])
                known = relations[r.key]
            else:
                known.weight += r.weight
                known.keywords = list(dict.fromkeys([*known.keywords, *r.keywords]))
            known.chunk_ids = list(dict.fromkeys([*known.chunk_ids, *r.chunk_ids]))
            relation_descriptions.setdefault(r.key, []).append(r.description)
    for name, entity in entities.items():
        entity.type = sorted(types[name].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        entity.description = _join(descriptions[name])
    for key, relation in relations.items():
        relation.description = _join(relation_descriptions[key])
    return Merged(entities, relations)
