"""Knowledge-graph prompts answered deterministically from the text they carry, for the local
OpenAI-protocol test server (`tests.llm_server.LLMServer.register`) and the graph benchmark.

- extraction (`-Knowledge graph extraction-`): entities are the text's quoted names and runs of
  capitalised words (a sentence's leading "The", "In"… left out); an entity's type comes from
  its words and the word before it (…Labs/Inc/University → organization, "in/at/from X" →
  geo, two or three capitalised words → person, else the last type offered); its description
  is the sentences naming it. Every two entities named one after the other in a sentence are
  related ("X <verb> Y"), the sentence being the relation's description and the words between
  them its keywords.
- entity resolution (`-Entity resolution-`): two names are the same when they agree letter for
  letter once case, punctuation, spaces and a trailing plural "s" are set aside.
- community reports (`-Community report-`): a JSON report built from the entity and relation
  rows of the prompt.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from knowledge.graph.prompts import (
    COMMUNITY_HEADING,
    COMPLETION_DELIMITER,
    EXTRACTION_HEADING,
    RECORD_DELIMITER,
    RESOLUTION_HEADING,
    TEXT_END,
    TEXT_START,
    TUPLE_DELIMITER,
)

_LEADING = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "It",
        "This",
        "That",
        "These",
        "Those",
        "Which",
        "What",
        "Who",
        "Where",
        "When",
        "How",
        "He",
        "She",
        "They",
        "We",
        "Its",
        "Their",
        "His",
        "Her",
        "Our",
        "After",
        "Before",
        "Since",
        "During",
        "Then",
        "Later",
        "Today",
        "Every",
        "Each",
        "Both",
        "Some",
        "Many",
        "Most",
        "All",
        "Also",
        "But",
        "And",
        "Or",
        "If",
        "While",
        "Although",
        "Because",
        "From",
        "To",
        "For",
        "By",
        "With",
        "Of",
        "As",
        "There",
        "Here",
        "Its",
    ]
)
_CONNECTORS = frozenset({"of", "de", "van", "von", "du", "la", "del", "&"})
_ORGANIZATION = frozenset(
    [
        "Labs",
        "Lab",
        "Inc",
        "Corp",
        "Corporation",
        "Company",
        "Co",
        "Ltd",
        "GmbH",
        "University",
        "Institute",
        "Group",
        "Agency",
        "Bank",
        "Society",
        "Foundation",
        "Council",
        "Ministry",
        "Systems",
        "Industries",
        "Partners",
        "Association",
        "Museum",
        "School",
        "Studio",
        "Studios",
        "Works",
        "Press",
        "Records",
        "Airlines",
        "Hospital",
    ]
)
_GEO = frozenset(
    [
        "City",
        "River",
        "Mountain",
        "Mountains",
        "Island",
        "Islands",
        "Lake",
        "Valley",
        "Bay",
        "Harbour",
        "Harbor",
        "Sea",
    ]
)
_EVENT = frozenset(
    ["Festival", "War", "Conference", "Summit", "Expedition", "Olympics", "Treaty", "Fair"]
)
_PLACE_WORDS = frozenset({"in", "at", "from", "near", "to", "into", "across"})
_WORD = re.compile(r"[\w'’-]+|&", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+")


def is_extraction_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return prompt.startswith(EXTRACTION_HEADING)


def is_resolution_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return prompt.startswith(RESOLUTION_HEADING)


def is_community_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return prompt.startswith(COMMUNITY_HEADING)


def _text_of(prompt: str) -> str:
    start = prompt.rfind(TEXT_START)
    end = prompt.rfind(TEXT_END)
    return prompt[start + len(TEXT_START) : end].strip() if 0 <= start < end else ""


def _types_of(prompt: str) -> list[str]:
    found = re.findall(r"^Entity types: (.*)$", prompt, re.MULTILINE)
    return [t.strip() for t in found[-1].split(",") if t.strip()] if found else ["category"]


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or (word[:1].isdigit() and len(word) > 1)


def _mentions(sentence: str) -> list[tuple[int, int, str]]:
    """(first word index, end word index, name) of each name in the sentence, in order."""
    words = _WORD.findall(sentence)
    found: list[tuple[int, int, str]] = []
    for quoted in re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", sentence):
        before = len(_WORD.findall(sentence[: quoted.start()]))
        found.append((before, before + len(_WORD.findall(quoted.group(1))), quoted.group(1)))
    taken = {i for start, end, _ in found for i in range(start, end)}
    i = 0
    while i < len(words):
        if i in taken or not words[i][:1].isupper() or (i == 0 and words[i] in _LEADING):
            i += 1
            continue
        j = i + 1
        while j < len(words) and j not in taken:
            if _is_capitalised(words[j]):
                j += 1
            elif words[j] in _CONNECTORS and j + 1 < len(words) and words[j + 1][:1].isupper():
                j += 2
            else:
                break
        if not (j - i == 1 and words[i] in _LEADING):
            found.append((i, j, " ".join(words[i:j])))
        i = j
    return sorted(found)


def _type_of(name: str, before: str, types: list[str]) -> str:
    lowered = {t.lower(): t for t in types}
    words = name.split()

    def pick(*options: str) -> str | None:
        for option in options:
            if option in lowered:
                return lowered[option]
        return None

    guess = None
    if words[-1] in _ORGANIZATION:
        guess = pick("organization", "organisation", "company")
    elif words[-1] in _EVENT:
        guess = pick("event")
    elif words[-1] in _GEO or before.lower() in _PLACE_WORDS:
        guess = pick("geo", "location", "place")
    elif 2 <= len(words) <= 3 and all(w[:1].isupper() for w in words):
        guess = pick("person")
    return guess or types[-1]


def answer_extraction(prompt: str, messages: list[dict[str, Any]]) -> str:
    text = _text_of(prompt)
    types = _types_of(prompt)
    light = "Method: light" in prompt
    t = TUPLE_DELIMITER
    entities: dict[str, tuple[str, list[str]]] = {}
    relations: list[str] = []
    for paragraph in text.split("\n"):
        for sentence in _SENTENCE.split(paragraph.strip()):
            if not sentence:
                continue
            words = _WORD.findall(sentence)
            mentions = _mentions(sentence)
            for start, _end, name in mentions:
                before = words[start - 1] if start > 0 else ""
                etype, sentences = entities.setdefault(
                    name.upper(), (_type_of(name, before, types), [])
                )
                if sentence not in sentences:
                    sentences.append(sentence)
            for (_s1, end1, first), (start2, _e2, second) in zip(
                mentions, mentions[1:], strict=False
            ):
                if first.upper() == second.upper():
                    continue
                between = [w.lower() for w in words[end1:start2]]
                keywords = ", ".join(between) or "mention"
                fields = [first.upper(), second.upper(), sentence]
                fields += [keywords, "5"] if light else ["5"]
                relations.append('("relationship"' + "".join(t + f for f in fields) + ")")
    records = [
        f'("entity"{t}{name}{t}{etype}{t}{" ".join(sentences)})'
        for name, (etype, sentences) in entities.items()
    ]
    records += relations
    if light:
        records.append(f'("content_keywords"{t}{", ".join(list(entities)[:5]).lower()})')
    return RECORD_DELIMITER.join(records) + COMPLETION_DELIMITER


def _same_name(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        return re.sub(r"[^0-9A-Z]", "", name.upper()).removesuffix("S")

    return norm(a) == norm(b)


def answer_resolution(prompt: str, messages: list[dict[str, Any]]) -> str:
    lines = []
    for number, a, b in re.findall(
        r"^Question (\d+): .*? A is (.*?); .*? B is (.*)$", prompt, re.MULTILINE
    ):
        verdict = "yes" if _same_name(a.strip(), b.strip()) else "no"
        lines.append(f"For Question {number}, <|>{number}<|>, &&{verdict}&&, by their spelling")
    return "\n".join(lines)


def _rows(prompt: str, heading: str) -> list[list[str]]:
    part = prompt.split(heading, 1)[1] if heading in prompt else ""
    part = part.split("\n-", 1)[0]
    rows = list(csv.reader(io.StringIO(part.strip())))
    return [r for r in rows[1:] if r]


def answer_community(prompt: str, messages: list[dict[str, Any]]) -> str:
    entities = _rows(prompt, "-Entities-")
    relations = _rows(prompt, "-Relationships-")
    names = [row[1] for row in entities if len(row) > 1]
    title = "Community of " + " and ".join(names[:2]) if names else "Community"
    summary = " ".join(
        row[2].split(". ")[0].rstrip(".") + "." for row in entities[:5] if len(row) > 2
    )
    findings = [
        {"summary": f"{row[1]} and {row[2]}", "explanation": row[3]}
        for row in relations
        if len(row) > 3
    ]
    report = {
        "title": title,
        "summary": summary,
        "rating": float(min(10, len(relations))),
        "rating_explanation": f"{len(relations)} relations among {len(names)} entities.",
        "findings": findings,
    }
    return json.dumps(report, ensure_ascii=False)


def register(server: Any) -> Any:
    """Teach `server` (an LLMServer) the three knowledge-graph prompts; returns it."""
    server.register(is_community_prompt, answer_community)
    server.register(is_resolution_prompt, answer_resolution)
    server.register(is_extraction_prompt, answer_extraction)
    return server
