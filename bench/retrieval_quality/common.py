"""Shared shapes for the generator: a passage draft, its candidate questions, small helpers."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

# How a question relates to its passage (recorded per question, reported per kind):
#   lexical      reuses the passage's own wording (and names the entity)
#   paraphrase   names the entity but asks in other words (synonyms, another phrasing)
#   exact        hinges on a rare exact token: a code, part number, ID or an unusual number
#   descriptive  names nothing; identifies the passage by what it says, in other words
KINDS = ("lexical", "paraphrase", "exact", "descriptive")


@dataclass
class Q:
    """A candidate question; `keys` are the facts it pins (relevance is computed from them)."""

    kind: str
    text: str
    keys: tuple[str, ...]


@dataclass
class Draft:
    """A passage before it gets an id: text plus the structured facts it states."""

    domain: str
    aspect: str
    title: str
    text: str
    facts: dict[str, str] = field(default_factory=dict)
    questions: list[Q] = field(default_factory=list)


def unique(rng: random.Random, make: Callable[[random.Random], T], used: set[T]) -> T:
    """A value from `make` not yet in `used` (then recorded there)."""
    for _ in range(100_000):
        value = make(rng)
        if value not in used:
            used.add(value)
            return value
    raise RuntimeError("value space exhausted")


def pair(rng: random.Random, options: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """One (passage wording, question wording) pair."""
    return options[rng.randrange(len(options))]


def sentences(
    rng: random.Random, parts: Sequence[str], filler: Sequence[str], p: float, sep: str = " "
) -> str:
    """Join sentences; with probability `p` add one domain boilerplate sentence at the end."""
    out = [s for s in parts if s]
    if filler and rng.random() < p:
        out.append(rng.choice(filler))
    return sep.join(out)
