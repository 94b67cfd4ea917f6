"""Related questions and mind maps: the prompts a chat model gets, reading its reply, and what
the built-in (offline) model makes of the retrieved chunks instead. Pure: no ORM, no I/O.

Offline, related questions are the questions stored with the chunks a search finds (generated
at parsing, or added by hand), then the headings those chunks sit under, then their keywords;
the mind map is the found chunks' documents, each with the heading structure of its chunks and,
under each heading, the first sentence of the chunk. Both only ever repeat what the knowledge
base says, so nothing is invented when no model is configured.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# RAGFlow v0.27 rag/prompts/related_question.md (POST /chat/recommendation).
RELATED_QUESTION_PROMPT = """# Role
You are an AI language model assistant tasked with generating **5-10 related questions** based on a user's original query.
These questions should help **expand the search query scope** and **improve search relevance**.

## Instructions
**Input:** You are provided with a **user's question**.
**Output:** Generate **5-10 alternative questions** that are **related** to the original user question.
These alternatives should help retrieve a **broader range of relevant documents** from a vector database.
**Context:** Focus on **rephrasing** the original question in different ways, ensuring the alternative questions are **diverse but still connected** to the topic of the original query.
Do **not** create overly obscure, irrelevant, or unrelated questions.
**Fallback:** If you cannot generate any relevant alternatives, do **not** return any questions.

## Guidance
1. Each alternative should be **unique** but still **relevant** to the original query.
2. Keep the phrasing **clear, concise, and easy to understand**.
3. Avoid overly technical jargon or specialized terms **unless directly relevant**.
4. Ensure that each question **broadens** the search angle, **not narrows** it.

## Example
**Original Question:**
> What are the benefits of electric vehicles?

**Alternative Questions:**
1. How do electric vehicles impact the environment?
2. What are the advantages of owning an electric car?
3. What is the cost-effectiveness of electric vehicles?
4. How do electric vehicles compare to traditional cars in terms of fuel efficiency?
5. What are the environmental benefits of switching to electric cars?
"""

# RAGFlow v0.22.1 POST /sessions/related_questions: search terms, optionally for an industry.
RELATED_TERMS_PROMPT = """
Objective: To generate search terms related to the user's search keywords, helping users find more valuable information.
Instructions:
 - Based on the keywords provided by the user, generate 5-10 related search terms.
 - Each search term should be directly or indirectly related to the keyword, guiding the user to find more valuable information.
 - Use common, general terms as much as possible, avoiding obscure words or technical jargon.
 - Keep the term length between 2-4 words, concise and clear.
 - DO NOT translate, use the language of the original keywords.
"""

# RAGFlow rag/graphrag/general/mind_map_prompt.py.
MIND_MAP_PROMPT = """
- Role: You're a talent text processor to summarize a piece of text into a mind map.

- Step of task:
  1. Generate a title for user's 'TEXT'。
  2. Classify the 'TEXT' into sections of a mind map.
  3. If the subject matter is really complex, split them into sub-sections and sub-subsections.
  4. Add a shot content summary of the bottom level section.

- Output requirement:
  - Generate at least 4 levels.
  - Always try to maximize the number of sub-sections.
  - In language of 'Text'
  - MUST IN FORMAT OF MARKDOWN

-TEXT-
{input_text}

"""

MAX_RELATED = 10
SUMMARY_CHARS = 120
HEADING_CHARS = 80
PATH_SEPARATOR = " > "  # knowledge/parsing/chunkers/sections.py opens chunks with this path

_NUMBERED = re.compile(r"^[0-9]\. ")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.+?)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s|(?<=[。！？])")
_MARKUP = re.compile(r"\*+|`+|\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class FoundChunk:
    """What suggestions read from a retrieved chunk."""

    content: str
    document_name: str
    questions: Sequence[str] = ()
    keywords: Sequence[str] = ()


def related_user_message(question: str) -> str:
    """The user message RAGFlow sends with the related-question prompts."""
    return f"\nKeywords: {question}\nRelated search terms:\n    "


def related_terms_prompt(industry: str = "") -> str:
    """v0.22's prompt, with its industry line when one is given."""
    prompt = RELATED_TERMS_PROMPT
    if industry:
        prompt += f" - Ensure all search terms are relevant to the industry: {industry}.\n"
    return prompt


def numbered_lines(reply: str) -> list[str]:
    """The `1. …` lines of a model's reply, without their numbers (RAGFlow's parsing)."""
    return [_NUMBERED.sub("", line) for line in reply.split("\n") if _NUMBERED.match(line)]


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub(lambda m: m.group(1) or "", text).split())


def _is_heading_line(line: str, rest: str) -> bool:
    """A first line that reads as a title: short, more text after it, no sentence end."""
    return (
        0 < len(line) <= HEADING_CHARS
        and bool(rest.strip())
        and not line.rstrip().endswith((".", "。", ":", "：", ",", "，", ";"))
    )


def heading_path(content: str) -> tuple[list[str], str]:
    """The headings a chunk sits under (outermost first) and the text after them.

    Markdown `#` lines, a sections-chunker path (`A > B > C`), or a short title-like first line.
    """
    lines = content.strip().split("\n")
    path: list[str] = []
    index = 0
    while index < len(lines) and (match := _MD_HEADING.match(lines[index].strip())):
        path.append(_plain(match.group(2)))
        index += 1
    if not path and lines:
        first = lines[0].strip()
        rest = "\n".join(lines[1:])
        if PATH_SEPARATOR in first and len(first) <= HEADING_CHARS * 3:
            path = [_plain(p) for p in first.split(PATH_SEPARATOR) if p.strip()]
            index = 1
        elif _is_heading_line(first, rest):
            path = [_plain(first)]
            index = 1
    return [p for p in path if p], "\n".join(lines[index:]).strip()


def first_sentence(text: str) -> str:
    """The first sentence of `text` (Markdown removed), cut to SUMMARY_CHARS."""
    plain = _plain(text)
    sentence = _SENTENCE_END.split(plain, maxsplit=1)[0].strip() if plain else ""
    if len(sentence) > SUMMARY_CHARS:
        sentence = sentence[: SUMMARY_CHARS - 1].rstrip() + "…"
    return sentence


def _same(a: str, b: str) -> bool:
    def key(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.casefold())

    return key(a) == key(b)


def related_from_chunks(question: str, chunks: Sequence[FoundChunk]) -> list[str]:
    """Up to MAX_RELATED suggestions from what the chunks hold (see the module docstring)."""
    stored: list[str] = []
    headings: list[str] = []
    keywords: list[str] = []
    for chunk in chunks:
        stored += [q.strip() for q in chunk.questions if isinstance(q, str)]
        path, _body = heading_path(chunk.content)
        headings += reversed(path)  # the nearest heading first
        keywords += [k.strip() for k in chunk.keywords if isinstance(k, str)]
    out: list[str] = []
    for candidate in [*stored, *headings, *keywords]:
        if not candidate or _same(candidate, question) or any(_same(candidate, o) for o in out):
            continue
        out.append(candidate)
        if len(out) == MAX_RELATED:
            break
    return out


def _node(label: str) -> dict[str, Any]:
    # RAGFlow's code names a node by `id`, its docs by `name`: both are given.
    return {"id": label, "name": label, "children": []}


def _child(node: dict[str, Any], label: str) -> dict[str, Any]:
    for child in node["children"]:
        if child["id"] == label:
            return child
    child = _node(label)
    node["children"].append(child)
    return child


def mind_map_from_chunks(question: str, chunks: Sequence[FoundChunk]) -> dict[str, Any]:
    """The question as the root; each document, its headings, and a sentence per chunk."""
    root = _node(question.strip())
    for chunk in chunks:
        path, body = heading_path(chunk.content)
        node = _child(root, chunk.document_name or "?")
        for heading in path:
            node = _child(node, heading)
        sentence = first_sentence(body)
        if sentence and not any(c["id"] == sentence for c in node["children"]):
            node["children"].append(_node(sentence))
    return root


def tree_from_markdown(reply: str) -> dict[str, Any]:
    """A model's Markdown mind map as a tree: headings nest by level, bullets by indentation
    under the nearest heading. One top-level entry is the root; several hang under `root`."""
    reply = re.sub(r"```[^\n]*", "", reply)
    top = _node("root")
    stack: list[tuple[float, dict[str, Any]]] = [(-1.0, top)]
    heading_depth = 0.0
    for raw in reply.split("\n"):
        if not raw.strip():
            continue
        if match := _MD_HEADING.match(raw.strip()):
            depth = float(len(match.group(1)))
            heading_depth = depth
            label = _plain(match.group(2))
        elif match := _BULLET.match(raw):
            indent = len(match.group(1).expandtabs(4))
            depth = heading_depth + 1 + indent / 100
            label = _plain(match.group(2))
        else:
            continue
        if not label:
            continue
        while stack[-1][0] >= depth:
            stack.pop()
        node = _node(label)
        stack[-1][1]["children"].append(node)
        stack.append((depth, node))
    if len(top["children"]) == 1:
        return top["children"][0]
    return top
