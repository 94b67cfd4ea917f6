"""Entity resolution: which entities of one type may be the same, asking the model, merging.

Candidates are pairs of one type whose names are alike (RAGFlow's rule): English names within
an edit distance of half the shorter name, other scripts sharing 80 % of their characters, and
never two names whose difference involves a digit ("ROUTE 66" and "ROUTE 67" stay apart).
The model answers each pair yes or no; pairs it merges join into groups (connected
components), and each group becomes its best-attested member.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

import networkx as nx

from knowledge.graph.extraction import Entity, Relation, _join

MAX_PAIRS_PER_PROMPT = 100
_ANSWER = re.compile(r"<\|>\s*(\d+)\s*<\|>.*?&&\s*(yes|no)\s*&&", re.IGNORECASE)


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _digit_in_bigram_difference(a: str, b: str) -> bool:
    grams_a = {a[i : i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i : i + 2] for i in range(len(b) - 1)}
    return any(ch.isdigit() for gram in grams_a ^ grams_b for ch in gram)


def _is_english(text: str) -> bool:
    return all(ord(ch) < 128 for ch in text)


def alike(a: str, b: str) -> bool:
    """Whether two names are close enough to ask the model about."""
    if _digit_in_bigram_difference(a, b):
        return False
    if _is_english(a) and _is_english(b):
        return _edit_distance(a, b) <= min(len(a), len(b)) // 2
    set_a, set_b = set(a), set(b)
    longest = max(len(set_a), len(set_b))
    if longest < 4:
        return len(set_a & set_b) > 1
    return len(set_a & set_b) / longest >= 0.8


def candidate_pairs(
    entities: Iterable[Entity], *, touching: set[str] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """{type: [(name, name), …]}: alike names of one type, at least one of them in `touching`
    when it is given (the entities a build added or changed)."""
    by_type: dict[str, list[str]] = {}
    for entity in entities:
        by_type.setdefault(entity.type, []).append(entity.name)
    pairs: dict[str, list[tuple[str, str]]] = {}
    for etype, names in sorted(by_type.items()):
        found = [
            (a, b)
            for a, b in itertools.combinations(sorted(names), 2)
            if (touching is None or a in touching or b in touching) and alike(a, b)
        ]
        if found:
            pairs[etype] = found
    return pairs


def parse_answers(answer: str, count: int) -> set[int]:
    """The 1-based numbers of the questions the model answered yes."""
    yes = set()
    for number, verdict in _ANSWER.findall(answer):
        index = int(number)
        if 1 <= index <= count and verdict.lower() == "yes":
            yes.add(index)
    return yes


def merge_groups(same: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Groups of names that are one entity (each sorted; groups of two or more)."""
    graph = nx.Graph()
    graph.add_edges_from(same)
    return [sorted(component) for component in nx.connected_components(graph)]


def apply_merges(
    entities: dict[str, Entity],
    relations: dict[tuple[str, str], Relation],
    groups: Sequence[Sequence[str]],
) -> dict[str, str]:
    """Merge each group into its member named in most chunks (then the longest, fullest name);
    relations follow their ends, parallel ones combine. Returns {merged name: kept name}."""
    renamed: dict[str, str] = {}
    for group in groups:
        members = [name for name in group if name in entities]
        if len(members) < 2:
            continue
        keep = sorted(members, key=lambda n: (-len(entities[n].chunk_ids), -len(n), n))[0]
        kept = entities[keep]
        for name in members:
            if name == keep:
                continue
            other = entities.pop(name)
            kept.description = _join([kept.description, *other.description.split("\n")])
            kept.chunk_ids = list(dict.fromkeys([*kept.chunk_ids, *other.chunk_ids]))
            renamed[name] = keep
    if not renamed:
        return renamed
    for key in list(relations):
        relation = relations[key]
        source = renamed.get(relation.source, relation.source)
        target = renamed.get(relation.target, relation.target)
        if (source, target) == key:
            continue
        del relations[key]
        if source == target:
            continue
        source, target = sorted((source, target))
        known = relations.get((source, target))
        if known is None:
            relation.source, relation.target = source, target
            relations[(source, target)] = relation
            continue
        known.weight += relation.weight
        known.description = _join([known.description, *relation.description.split("\n")])
        known.keywords = list(dict.fromkeys([*known.keywords, *relation.keywords]))
        known.chunk_ids = list(dict.fromkeys([*known.chunk_ids, *relation.chunk_ids]))
    return renamed
