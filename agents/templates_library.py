"""Ready-made agents: each template turns the answers of its form into a runnable DSL.

The DSLs are what RAGFlow v0.22 writes (contract §8.7), so an agent made here can be exported
and run elsewhere. `graph` (RAGFlow's canvas layout) is left out: it is UI-only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AgentTemplate:
    slug: str
    name: str | Promise
    description: str | Promise
    flow: tuple[str, ...]  # the component types in order, for the chooser's sketch


TEMPLATES: dict[str, AgentTemplate] = {
    template.slug: template
    for template in (
        AgentTemplate(
            slug="qa",
            name=_("Knowledge-base Q&A"),
            description=_(
                "Searches the knowledge bases you pick for passages that answer the question, "
                "then lets the chat model write an answer that cites them."
            ),
            flow=("Begin", "Retrieval", "LLM", "Message"),
        ),
        AgentTemplate(
            slug="triage",
            name=_("Classify, then answer"),
            description=_(
                "Sorts each question into one of two or three categories and searches only that "
                "category's knowledge bases, e.g. product questions in the manuals and billing "
                "questions in the pricing documents."
            ),
            flow=("Begin", "Categorize", "Retrieval", "LLM", "Message"),
        ),
        AgentTemplate(
            slug="faq",
            name=_("Fixed-reply FAQ"),
            description=_(
                "Answers with fixed texts you write, chosen by keywords in the question, and "
                "with a default reply otherwise. No model and no search: instant and predictable."
            ),
            flow=("Begin", "Switch", "Message"),
        ),
    )
}

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful assistant. Answer the question from the knowledge base below. "
    "If it does not contain the answer, say that you do not know.\n\n"
    "Knowledge base:\n{knowledge}"
)


@dataclass(frozen=True)
class Category:
    """One branch of the triage template: what it covers and where its answers come from."""

    name: str
    description: str
    examples: Sequence[str]
    dataset_ids: Sequence[str]


@dataclass(frozen=True)
class FaqEntry:
    """One fixed reply, given when the question contains any of the keywords."""

    keywords: Sequence[str]
    answer: str


def component(
    type_name: str,
    params: dict[str, Any],
    *,
    downstream: Sequence[str] = (),
    upstream: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "obj": {"component_name": type_name, "params": params},
        "downstream": list(downstream),
        "upstream": list(upstream),
    }


def dsl_of(components: dict[str, Any]) -> dict[str, Any]:
    """A complete DSL around `components`, with the run keys RAGFlow requires."""
    return {
        "components": components,
        "history": [],
        "path": [],
        "retrieval": [],
        "globals": {
            "sys.query": "",
            "sys.user_id": "",
            "sys.conversation_turns": 0,
            "sys.files": [],
        },
    }


def component_id(type_name: str, label: str, fallback: str, taken: set[str]) -> str:
    """`<Type>:<CamelCaseLabel>`, unique among `taken`; `fallback` when the label has no letters.

    Ids end up in `{Type:Id@output}` references, so only ASCII letters and digits are kept.
    """
    words = re.findall(r"[A-Za-z0-9]+", label)
    base = f"{type_name}:{''.join(w[:1].upper() + w[1:] for w in words)[:40] or fallback}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def _begin(prologue: str, downstream: Sequence[str]) -> dict[str, Any]:
    return component(
        "Begin",
        {"mode": "conversational", "prologue": prologue, "inputs": {}},
        downstream=downstream,
    )


def _retrieval(dataset_ids: Sequence[str], *, downstream: str, upstream: str) -> dict[str, Any]:
    params = {
        "kb_ids": list(dataset_ids),
        "query": "sys.query",
        "similarity_threshold": 0.2,
        "keywords_similarity_weight": 0.3,
        "top_n": 8,
        "top_k": 1024,
        "empty_response": "",
    }
    return component("Retrieval", params, downstream=[downstream], upstream=[upstream])


def _llm(
    llm_id: str, knowledge: Sequence[str], *, downstream: str, upstream: Sequence[str]
) -> dict[str, Any]:
    references = "\n".join(f"{{{cpn_id}@formalized_content}}" for cpn_id in knowledge)
    params = {
        "llm_id": llm_id,
        "sys_prompt": DEFAULT_SYSTEM_PROMPT.replace("{knowledge}", references),
        "prompts": [{"role": "user", "content": "{sys.query}"}],
        "temperature": 0.1,
        "cite": True,
    }
    return component("LLM", params, downstream=[downstream], upstream=upstream)


def _message(content: str, *, upstream: Sequence[str]) -> dict[str, Any]:
    return component("Message", {"content": [content], "stream": True}, upstream=upstream)


def qa_dsl(*, dataset_ids: Sequence[str], llm_id: str, prologue: str) -> dict[str, Any]:
    """Begin → Retrieval → LLM → Message."""
    search, answer, reply = "Retrieval:Search", "LLM:Answer", "Message:Reply"
    return dsl_of(
        {
            "begin": _begin(prologue, [search]),
            search: _retrieval(dataset_ids, downstream=answer, upstream="begin"),
            answer: _llm(llm_id, [search], downstream=reply, upstream=[search]),
            reply: _message(f"{{{answer}@content}}", upstream=[answer]),
        }
    )


def triage_dsl(*, categories: Sequence[Category], llm_id: str, prologue: str) -> dict[str, Any]:
    """Begin → Categorize → one Retrieval per category → a shared LLM → Message.

    Only the chosen category's Retrieval runs; the LLM's prompt names every Retrieval's passages,
    and those that did not run contribute nothing.
    """
    topic, answer, reply = "Categorize:Topic", "LLM:Answer", "Message:Reply"
    taken = {"begin", topic, answer, reply}
    searches = [
        component_id("Retrieval", c.name, f"Category{n}", taken)
        for n, c in enumerate(categories, start=1)
    ]
    components: dict[str, Any] = {
        "begin": _begin(prologue, [topic]),
        topic: component(
            "Categorize",
            {
                "llm_id": llm_id,
                "query": "sys.query",
                "category_description": {
                    c.name: {"description": c.description, "examples": list(c.examples), "to": [s]}
                    for c, s in zip(categories, searches, strict=True)
                },
            },
            downstream=searches,
            upstream=["begin"],
        ),
    }
    for category, search in zip(categories, searches, strict=True):
        components[search] = _retrieval(category.dataset_ids, downstream=answer, upstream=topic)
    components[answer] = _llm(llm_id, searches, downstream=reply, upstream=searches)
    components[reply] = _message(f"{{{answer}@content}}", upstream=[answer])
    return dsl_of(components)


def faq_dsl(*, entries: Sequence[FaqEntry], default_answer: str, prologue: str) -> dict[str, Any]:
    """Begin → Switch on keywords in sys.query → a fixed Message per entry, else a default one."""
    switch, fallback = "Switch:Keywords", "Message:Default"
    taken = {"begin", switch, fallback}
    replies = [
        component_id("Message", e.keywords[0] if e.keywords else "", f"Answer{n}", taken)
        for n, e in enumerate(entries, start=1)
    ]
    conditions = [
        {
            "logical_operator": "or",
            "items": [
                {"cpn_id": "sys.query", "operator": "contains", "value": keyword}
                for keyword in entry.keywords
            ],
            "to": [reply],
        }
        for entry, reply in zip(entries, replies, strict=True)
    ]
    components: dict[str, Any] = {
        "begin": _begin(prologue, [switch]),
        switch: component(
            "Switch",
            {"conditions": conditions, "end_cpn_ids": [fallback]},
            downstream=[*replies, fallback],
            upstream=["begin"],
        ),
    }
    for entry, reply in zip(entries, replies, strict=True):
        components[reply] = _message(entry.answer, upstream=[switch])
    components[fallback] = _message(default_answer, upstream=[switch])
    return dsl_of(components)
