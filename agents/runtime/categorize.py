"""Categorize: routes to one category's components, chosen by a model or by lexical overlap."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from django.conf import settings

from agents.runtime.dsl import id_list
from agents.runtime.llm import load_model
from agents.runtime.state import RunState, Step
from agents.runtime.variables import resolve_param
from chat.llm import ChatModelError, ChatRequest
from chat.llm.extractive import STOP_WORDS
from chat.llm.streaming import bounded
from knowledge.fulltext import tokens

logger = logging.getLogger(__name__)

PROMPT = """You sort the user's message into exactly one of these categories.

{categories}

Reply with the category name only, nothing else."""


def examples_of(category: dict[str, Any]) -> list[str]:
    """A category's examples: a list (of strings or {"value": ...}) or a newline-separated text."""
    examples = category.get("examples") or []
    if isinstance(examples, str):
        return [line.strip() for line in examples.splitlines() if line.strip()]
    out: list[str] = []
    for example in examples if isinstance(examples, list) else []:
        value = example.get("value") if isinstance(example, dict) else example
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out


def _terms(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOP_WORDS and not (len(t) == 1 and t.isascii())}


def pick_lexically(query: str, categories: dict[str, dict[str, Any]]) -> str:
    """The category whose name, description and examples share most terms with `query`.

    Each shared term counts once, weighted by how few categories mention it; ties and no overlap
    at all go to the earliest category.
    """
    names = list(categories)
    query_terms = _terms(query)
    described = {
        name: _terms(
            " ".join(
                [name, str(categories[name].get("description") or "")]
                + examples_of(categories[name])
            )
        )
        for name in names
    }
    best, best_score = names[0], 0.0
    for name in names:
        score = sum(
            1 / sum(1 for other in names if term in described[other])
            for term in query_terms & described[name]
        )
        if score > best_score:
            best, best_score = name, score
    return best


def parse_choice(reply: str, names: list[str]) -> str | None:
    """The category a model's reply names: exact, then case-insensitive, then the earliest mention."""
    text = reply.strip().strip("\"'`*. \n")
    for name in names:
        if text == name:
            return name
    for name in names:
        if text.lower() == name.lower():
            return name
    mentions = [
        (match.start(), -len(name), name)
        for name in names
        if (match := re.search(re.escape(name.lower()), reply.lower()))
    ]
    return min(mentions)[2] if mentions else None


def _prompt(categories: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, category in categories.items():
        lines.append(f"- {name}: {category.get('description') or ''}".rstrip(": "))
        lines += [f"  Example: {example}" for example in examples_of(category)]
    return PROMPT.format(categories="\n".join(lines))


async def _ask_model(step: Step, query: str, categories: dict[str, dict[str, Any]]) -> str | None:
    """The model's choice; None for the extractive model or when the model fails."""
    try:
        model = await load_model(step.params.get("llm_id"))
        if model.extractive:
            return None
        request = ChatRequest(
            system=_prompt(categories),
            history=[],
            question=query,
            knowledge=[],
            quote=False,
            temperature=0.0,
            max_tokens=64,
        )
        answer = bounded(model.stream(request), settings.RAGSITE_MAX_ANSWER_CHARS)
        reply = "".join([delta async for delta in answer])
    except ChatModelError as exc:
        logger.warning("Categorize %s: model failed (%s), choosing lexically", step.id, exc.message)
        return None
    return parse_choice(reply, list(categories))


async def run_categorize(state: RunState, step: Step) -> None:
    """Output `category_name`; the run continues with that category's `to` components."""
    categories = {
        str(name): category
        for name, category in (step.params.get("category_description") or {}).items()
        if isinstance(category, dict)
    }
    if not categories:
        raise ValueError("no categories")
    query_param = step.params.get("query")
    query = str(
        await resolve_param(state, query_param if isinstance(query_param, str) else "sys.query")
        or ""
    )
    choice = await _ask_model(step, query, categories)
    if choice is None:
        # jieba's first use loads its dictionary: keep it off the event loop.
        choice = await asyncio.to_thread(pick_lexically, query, categories)
    state.set_output(step.id, "category_name", choice)
    step.next_ids = id_list(categories[choice].get("to"))
    state.set_output(step.id, "_next", step.next_ids)
