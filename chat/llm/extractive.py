"""The built-in offline chat model: it quotes the knowledge-base sentences that answer best.

It never generates text. It splits the retrieved chunks into sentences, scores each by the
IDF-weighted share of the question's terms it contains, and streams the best one to three back
with their citations. Pure Python and jieba, so it needs no model download and answers at once.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chat.llm.base import ChatRequest, KnowledgeChunk
from knowledge.fulltext import tokens

MODEL_ID = "ragsite-extractive@Builtin"

NOT_FOUND_EN = "I could not find anything relevant to this question in the knowledge base."
NOT_FOUND_ZH = "知识库中没有找到与这个问题相关的内容。"
NO_DATASETS_EN = (
    "The built-in extractive model can only quote a knowledge base, and this chat has no "
    "datasets. Add a dataset to the chat, or ask an administrator to configure a chat model."
)
NO_DATASETS_ZH = (
    "内置的抽取式模型只能引用知识库中的内容，而这个对话没有关联知识库。"
    "请为对话添加知识库，或请管理员配置一个对话模型。"
)

MAX_SENTENCES = 3
# A sentence must carry at least this share of the question's (IDF-weighted) terms.
MIN_SCORE = 0.2
# Further sentences must score at least this fraction of the best one, so weak matches stay out.
RELATIVE_CUTOFF = 0.5
# Higher-ranked chunks win ties; small enough never to outweigh one more matching term.
RANK_BONUS = 0.02
# Sentences whose token sets overlap this much say the same thing (chunk overlaps, repeats).
DUPLICATE_JACCARD = 0.8

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "per",
        "by",
        "with",
        "from",
        "about",
        "into",
        "as",
        "and",
        "or",
        "not",
        "no",
        "how",
        "many",
        "much",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "done",
        "has",
        "have",
        "had",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
        "us",
        "they",
        "them",
        "their",
        "he",
        "she",
        "it",
        "its",
        "his",
        "her",
        "this",
        "that",
        "these",
        "those",
        "there",
        "please",
        "tell",
        "show",
        "give",
        "explain",
        "describe",
        "know",
        "的",
        "了",
        "是",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "多少",
        "什么",
        "怎么",
        "怎样",
        "怎么样",
        "如何",
        "哪",
        "哪些",
        "哪个",
        "哪里",
        "谁",
        "几",
        "几个",
        "有",
        "在",
        "和",
        "与",
        "及",
        "或",
        "请",
        "请问",
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "为什么",
        "为何",
        "吗",
        "一个",
        "个",
        "这",
        "那",
        "这个",
        "那个",
    ]
)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Latin sentence ends need a following space so "3.5" and "pgvector.org" stay whole;
# CJK ends are unambiguous.
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?])\s+")
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[\s.!?。！？；;,，:：]+$")
_CJK_CLASS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Every character falls in one alternative, so the pieces always join back to the whole text.
_PIECES = re.compile(rf"[{_CJK_CLASS}]{{1,3}}\s*|[^\s{_CJK_CLASS}]+\s*|\s+")


@dataclass(frozen=True)
class _Sentence:
    text: str
    chunk: KnowledgeChunk
    order: int  # position among all candidates: chunk rank, then place in the chunk
    rank: int  # the chunk's position in the retrieval order
    terms: frozenset[str]


def _stem(token: str) -> str:
    """Strip English plural endings so "walruses" matches "walrus" and "keeps" matches "keep"."""
    if not token.isascii() or not token.isalpha() or len(token) <= 3:
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes", "zes", "uses")):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    # A final "e" goes too, so "houses" -> "hous" (via "uses") meets "house" -> "hous".
    return token[:-1] if token.endswith("e") and len(token) > 3 else token


def _terms(text: str) -> frozenset[str]:
    """Normalised content terms of `text`: jieba tokens, stemmed, stop-words dropped."""
    terms = set()
    for token in tokens(text):
        # Single Latin letters are possessive "s", initials and list markers, never content.
        if token in STOP_WORDS or (len(token) == 1 and token.isascii()):
            continue
        terms.add(_stem(token))
    return frozenset(terms)


def is_mostly_cjk(text: str) -> bool:
    """True when CJK characters outnumber Latin letters, to answer in Chinese."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk >= len(_LATIN.findall(text))


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk, split at English and Chinese sentence ends and at newlines."""
    sentences: list[str] = []
    for line in text.splitlines():
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if part and not _TRAILING_PUNCT.fullmatch(part):
                sentences.append(part)
    return sentences


def _dedupe_key(sentence: str) -> str:
    return _TRAILING_PUNCT.sub("", _SPACES.sub(" ", sentence.lower())).strip()


def _candidates(knowledge: list[KnowledgeChunk]) -> list[_Sentence]:
    """Every distinct sentence, credited to the best-ranked chunk that contains it."""
    seen: set[str] = set()
    out: list[_Sentence] = []
    for rank, chunk in enumerate(knowledge):
        for text in split_sentences(chunk.content):
            key = _dedupe_key(text)
            if key in seen:
                continue
            seen.add(key)
            out.append(_Sentence(text, chunk, len(out), rank, _terms(text)))
    return out


def select_sentences(question: str, knowledge: list[KnowledgeChunk]) -> list[_Sentence]:
    """The one to three sentences that answer `question` best, in reading order."""
    question_terms = _terms(question)
    candidates = _candidates(knowledge)
    if not question_terms or not candidates:
        return []
    total = len(candidates)

    def idf(term: str) -> float:
        # BM25's smoothed IDF: always positive, largest for terms few sentences contain.
        df = sum(1 for c in candidates if term in c.terms)
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    weights = {term: idf(term) for term in question_terms}
    norm = sum(weights.values())
    scored: list[tuple[float, _Sentence]] = []
    for candidate in candidates:
        matched = sum(w for term, w in weights.items() if term in candidate.terms)
        if matched == 0:
            continue
        share = matched / norm
        scored.append((share + RANK_BONUS / (1 + candidate.rank), candidate))
    scored.sort(key=lambda item: (-item[0], item[1].order))
    if not scored or scored[0][0] < MIN_SCORE:
        return []
    cutoff = max(MIN_SCORE, scored[0][0] * RELATIVE_CUTOFF)
    chosen: list[_Sentence] = []
    for score, candidate in scored:
        if score < cutoff or len(chosen) == MAX_SENTENCES:
            break
        if any(_similar(candidate.terms, other.terms) for other in chosen):
            continue
        chosen.append(candidate)
    return sorted(chosen, key=lambda c: c.order)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    union = a | b
    return bool(union) and len(a & b) / len(union) >= DUPLICATE_JACCARD


def compose_answer(request: ChatRequest) -> str:
    """The whole answer: the chosen sentences with citations, or a plain "nothing found"."""
    chinese = is_mostly_cjk(request.question)
    if not request.knowledge and not request.has_datasets:
        return NO_DATASETS_ZH if chinese else NO_DATASETS_EN
    chosen = select_sentences(request.question, request.knowledge)
    if not chosen:
        return NOT_FOUND_ZH if chinese else NOT_FOUND_EN
    parts = [f"{s.text} [ID:{s.chunk.index}]" if request.quote else s.text for s in chosen]
    return " ".join(parts)


def pieces(text: str) -> list[str]:
    """Stream-sized pieces: a word with its trailing space, or up to three CJK characters."""
    return _PIECES.findall(text)


class ExtractiveChatModel:
    """`ragsite-extractive@Builtin`: answers only by quoting the retrieved chunks."""

    model_id = MODEL_ID
    extractive = True

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the answer word by word, letting other coroutines run between pieces."""
        # jieba's first use loads its dictionary (about a second): keep that off the event loop.
        answer = await asyncio.to_thread(compose_answer, request)
        for piece in pieces(answer):
            yield piece
            await asyncio.sleep(0)
