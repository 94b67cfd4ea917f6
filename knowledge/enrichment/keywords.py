"""Auto keywords and questions (parser_config `auto_keywords`, `auto_questions`): after chunking,
the dataset's chat model writes them for each chunk, in batches. They go to the chunk's
`important_keywords` and `questions`, which keyword search weighs above body text, exactly like
ones added by hand; questions also become what the chunk's vector is made from (RAGFlow's rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from knowledge.enrichment.chat_model import chat_model_problem, resolve_chat_model
from knowledge.enrichment.session import Ask, LLMSession
from knowledge.models import Dataset
from knowledge.parsing import ChunkDraft

KEYWORD_PROMPT = """## Role
You are a text analyzer.

## Task
Extract the most important keywords/phrases of a given piece of text content.

## Requirements
- Summarize the text content, and give the top {topn} important keywords/phrases.
- The keywords MUST be in the same language as the given piece of text content.
- The keywords are delimited by ENGLISH COMMA.
- Output keywords ONLY.

---

## Text Content
{content}
"""

QUESTION_PROMPT = """## Role
You are a text analyzer.

## Task
Propose {topn} questions about a given piece of text content.

## Requirements
- Understand and summarize the text content, and propose the top {topn} important questions.
- The questions SHOULD NOT have overlapping meanings.
- The questions SHOULD cover the main content of the text as much as possible.
- The questions MUST be in the same language as the given piece of text content.
- One question per line.
- Output questions ONLY.

---

## Text Content
{content}
"""

# Chunks asked about between two progress reports (and cancellation checks).
BATCH = 8
_SPLIT_KEYWORDS = re.compile(r"[,，、;；\n]+")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)、])\s*")


def parse_keywords(answer: str, limit: int) -> list[str]:
    seen: dict[str, str] = {}
    for part in _SPLIT_KEYWORDS.split(answer):
        word = _LIST_MARK.sub("", part).strip().strip("\"'`*").strip()
        if word and len(word) <= 100 and word.lower() not in seen:
            seen[word.lower()] = word
    return list(seen.values())[:limit]


def parse_questions(answer: str, limit: int) -> list[str]:
    found: list[str] = []
    for line in answer.splitlines():
        question = _LIST_MARK.sub("", line).strip()
        if question and question not in found:
            found.append(question)
    return found[:limit]


def _ask(template: str, content: str, topn: int, label: str) -> Ask:
    return Ask(
        messages=[{"role": "user", "content": template.format(topn=topn, content=content)}],
        label=label,
        max_tokens=512,
    )


def enrich_drafts(
    drafts: Sequence[ChunkDraft],
    session: LLMSession,
    *,
    keywords: int,
    questions: int,
    chunk_ids: Sequence[str],
    progress: Callable[[int, int], None],
) -> None:
    """Add up to `keywords` keywords and `questions` questions to each draft, in place.

    `chunk_ids` name the drafts in error messages; `progress(done, total)` runs after each
    batch (and may raise to stop: a cancelled parse). Raises EnrichmentError (a provider error
    naming the chunk, or the cost limit).
    """
    total = len(drafts)
    for start in range(0, total, BATCH):
        batch = range(start, min(start + BATCH, total))
        asks: list[Ask] = []
        for i in batch:
            if keywords > 0:
                asks.append(_ask(KEYWORD_PROMPT, drafts[i].content, keywords, f"Keywords for chunk {chunk_ids[i]}"))  # fmt: skip
            if questions > 0:
                asks.append(_ask(QUESTION_PROMPT, drafts[i].content, questions, f"Questions for chunk {chunk_ids[i]}"))  # fmt: skip
        answers = iter(session.ask_many(asks))
        for i in batch:
            draft = drafts[i]
            if keywords > 0:
                new = parse_keywords(next(answers), keywords)
                draft.important_keywords = list(dict.fromkeys([*draft.important_keywords, *new]))
            if questions > 0:
                new = parse_questions(next(answers), questions)
                draft.questions = list(dict.fromkeys([*draft.questions, *new]))
        progress(batch.stop, total)


def _count(parser_config: dict[str, Any], key: str) -> int:
    value = parser_config.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def enrich_parsed_document(
    dataset: Dataset,
    parser_config: dict[str, Any],
    drafts: Sequence[ChunkDraft],
    chunk_ids: Sequence[str],
    *,
    log: Callable[[str], None],
    progress: Callable[[int, int], None],
) -> bool:
    """The parse step: keywords and questions if the config asks for them and a chat model is
    configured (else a log line saying what to configure). True if the model was asked."""
    keywords = _count(parser_config, "auto_keywords")
    questions = _count(parser_config, "auto_questions")
    raptor = parser_config.get("raptor")
    use_raptor = isinstance(raptor, dict) and raptor.get("use_raptor") is True
    problem = chat_model_problem(dataset) if keywords or questions or use_raptor else None
    if use_raptor:
        log(
            "RAPTOR was requested but needs a chat model; not applied. " + problem
            if problem
            else "RAPTOR is on: build the summaries from the dataset page, or with "
            f"POST /api/v1/datasets/{dataset.pk}/run_raptor, once the documents are parsed."
        )
    if not (keywords or questions):
        return False
    if problem:
        for key, count, what in (("auto_keywords", keywords, "keywords"), ("auto_questions", questions, "questions")):  # fmt: skip
            if count:
                log(f"{key} ({count}) needs a chat model; no {what} were generated. {problem}")
        return False
    session = LLMSession(resolve_chat_model(dataset), dataset.pk)
    log(f"Asking {session.config.model_id} for keywords ({keywords}) and questions ({questions}) per chunk.")  # fmt: skip
    enrich_drafts(
        drafts, session, keywords=keywords, questions=questions, chunk_ids=chunk_ids,
        progress=progress,
    )  # fmt: skip
    reused = f", {session.kept_answers} kept answers reused" if session.kept_answers else ""
    log(f"Keywords and questions done: {session.calls_used} chat-model calls, {session.tokens_used} tokens{reused}.")  # fmt: skip
    return True
