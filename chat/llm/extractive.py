"""The built-in offline chat model: it quotes the knowledge-base passages that answer best.

It never generates text. It reads the retrieved chunks as prose sentences, list items, lists,
table rows and code blocks (headings and lead-in lines such as "Requirements:" are context, never
an answer on their own), scores each against the question by the IDF-weighted share of the
question's terms it holds and, when the datasets' embedding model is known, by embedding
similarity (with MiniLM, a question's word also counts for the passages' words whose vectors
are close to its own: "folder" for "directory"), then picks up to MAX_UNITS with maximal
marginal relevance (MMR) so that near-repeats stay out. The sections (a chunk's passages under
one heading) are embedded as wholes too, and the opening passage of the section most like the
question is always among those quoted: a question in other words is often answered by a
section none of whose sentences says it alone. A quoted sentence goes on with the sentences
after it in its section that still hold question terms (FOLLOW_ON_CHARS). A list whose lead-in
answers is quoted whole (the CPU / RAM / disk of "Hardware requirements:"). The answer goes
chunk by chunk, best chunk first, each passage followed by its `[ID:n]` citation. When nothing
answers it says the one no-answer text (`ChatRequest.no_answer`).
jieba and the bundled embedding model only: no download, no network for built-in models.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from chat.llm.base import ChatRequest, KnowledgeChunk
from knowledge.fulltext import tokens
from knowledge.parsing.text import markdown_tables

logger = logging.getLogger(__name__)

MODEL_ID = "ragsite-extractive@Builtin"

# The one no-answer text; chat.models.DEFAULT_EMPTY_RESPONSE is the same sentence (tested), and
# a chat's own empty_response replaces it.
NOT_FOUND_EN = "Sorry! No relevant content was found in the knowledge base!"
NOT_FOUND_ZH = "抱歉！知识库中没有找到相关内容！"
NO_DATASETS_EN = (
    "The built-in extractive model can only quote a knowledge base, and this chat has no "
    "datasets. Add a dataset to the chat, or ask an administrator to configure a chat model."
)
NO_DATASETS_ZH = (
    "内置的抽取式模型只能引用知识库中的内容，而这个对话没有关联知识库。"
    "请为对话添加知识库，或请管理员配置一个对话模型。"
)

# At most this many passages, and about this many characters, in one answer.
MAX_UNITS = 4
MAX_CHARS = 1500
# A whole list is a candidate when it is this small; longer lists are quoted item by item.
MAX_LIST_ITEMS = 12
MAX_BLOCK_CHARS = 1200
# A chosen list item is quoted with its whole list when the list is this short: "CPU >= 4 cores"
# answers less than the prerequisites list it is one line of.
SHORT_LIST_ITEMS = 8
SHORT_LIST_CHARS = 400
# At most this many code examples in one answer: one shows how, more make it long.
MAX_CODE = 1
# Code counts for this much of its score: identifiers and keywords hold many words.
CODE_WEIGHT = 0.9
# A longer code block is quoted by pieces of whole statements, each at most this long.
CODE_PIECE_CHARS = 450
# A passage qualifies when its score (term share and embedding similarity together) is at least
# this: with embeddings a fifth of the question's term weight or a cosine of 0.36, either alone
# (without, a tenth of the term weight). Retrieval's similarity threshold has already decided
# whether the knowledge base holds an answer; this keeps out the passages of the retrieved
# chunks that share nothing with the question.
MIN_SCORE = 0.1
# Cosines below EMBEDDING_FLOOR count as no similarity; the rest is scaled to 0..1.
EMBEDDING_FLOOR = 0.2
# Weight of embedding similarity against term share; MiniLM reads English only, so for a
# Chinese question it counts for less.
EMBEDDING_WEIGHT = 0.5
EMBEDDING_WEIGHT_ENGLISH_ONLY_MODEL_CJK = 0.15
_MINILM = "sentence-transformers/all-MiniLM-L6-v2@Builtin"  # knowledge.embeddings.MINILM_ID
ENGLISH_ONLY_MODELS = frozenset([_MINILM])
# Further passages must score at least this fraction of the best one.
RELATIVE_CUTOFF = 0.6
# MMR: relevance against similarity to what is already chosen.
MMR_LAMBDA = 0.75
# Passages this similar (cosine, or term Jaccard without embeddings) say the same thing.
DUPLICATE_SIMILARITY = 0.9
DUPLICATE_JACCARD = 0.8
# Bonus for holding the question's adjacent word pairs (all of them: this much).
PHRASE_WEIGHT = 0.2
# Higher-ranked chunks win ties; small enough never to outweigh one more matching term.
RANK_BONUS = 0.02
# Passages embedded per question at most (the rest are scored by their terms alone).
EMBED_LIMIT = 12
# A word of an English question also stands for the passages' words whose own MiniLM vectors
# are this close to it ("folder" -> "directory", "installed" -> "installation", "start" ->
# "beginning"), at most SOFT_TERMS of them; cosines are the model's, so only for its models.
# The words are those of the best-ranked chunks first, at most SOFT_VOCABULARY per question.
SOFT_TERM_COSINE = 0.75
SOFT_TERMS = 3
SOFT_VOCABULARY = 500
# A question with more terms than this (a pasted text, not a question in other words) is
# matched as written: its words alone would cost more than the passages'.
SOFT_QUESTION_TERMS = 32
SOFT_TERM_MODELS = frozenset([_MINILM])
# Sections (a chunk's passages under one heading) embedded per question at most, best-ranked
# chunks first; the section most like the question (at least this cosine) is always quoted.
SECTION_EMBED_LIMIT = 12
SECTION_MIN_COSINE = 0.3
# Of each section, this much is embedded: its heading and opening say what it is about.
SECTION_EMBED_CHARS = 160
# Of each passage, this much is embedded (the start says what it is about; shorter is faster).
EMBED_CHARS = 300
# A quoted sentence goes on with the sentences after it in its section that hold some of the
# question's terms, while the passage stays this short: a definition's first sentence names the
# idea, the next ones often the thing to use.
FOLLOW_ON_CHARS = 320
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

_CJK_CLASS = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_LATIN = re.compile(r"[A-Za-z]")
# Latin sentence ends need a following space so "3.5" and "pgvector.org" stay whole;
# CJK ends are unambiguous. An ellipsis ("ALTER TABLE ... ENABLE ROW LEVEL SECURITY") ends
# nothing.
_SENTENCE_END = re.compile(r"[。！？；][）)”’]*|(?<!\.)(?<!\.\.)[.!?][)\"'”’]*(?=\s)")
# Longer brackets are no aside but code or a list: sentences inside them are cut as usual.
BRACKET_MAX_CHARS = 300
_BRACKETS = {")": "(", "）": "（", "]": "["}
# Abbreviations whose full stop ends no sentence ("e.g. a list", "cf. the manual").
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:e\.g|i\.e|cf|vs|approx|incl|resp|esp|viz)\.$", re.I)
_SPACES = re.compile(r"\s+")
_TRAILING_PUNCT = re.compile(r"[\s.!?。！？；;,，:：]+$")
# Every character falls in one alternative, so the pieces always join back to the whole text.
_PIECES = re.compile(rf"[{_CJK_CLASS}]{{1,3}}\s*|[^\s{_CJK_CLASS}]+\s*|\s+")
_BULLET = re.compile(
    r"^\s*(?:[-*+•·▪◦‣]\s+|\d{1,3}[.)]\s+|\d{1,3}、\s*|[a-z][.)]\s+|[（(]\d{1,3}[)）]\s*)"
)
# A Markdown link or image: "[Configuration](https://ragflow.io/docs/dev/configurations)" says
# "Configuration"; its address's words ("ragflow", "docs") are not what the passage says.
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
# A thematic break, or a Docusaurus / MkDocs admonition's fence (":::note", ":::caution WARNING",
# ":::", "!!! tip"), on a line of its own.
_RULE_LINE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|:::.*|!!!\s+\w.*)$")
# A line inside a list item that starts a quote or a code block of the item.
_ITEM_BLOCK = re.compile(r"^\s+(?:>|```|~~~)")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_LEAD_IN = re.compile(r"[:：]\s*$")
# Sphinx's "¶" closes headings and API signatures ("json.dump(obj, fp, …)¶").
_ANCHOR = re.compile(r"\s*¶\s*$")
_PROMPT = re.compile(r"^\s*(?:>>>|\$|PS>|postgres=[#>]|=[#>])\s")
# A heading that names a term (an API, a setting: "shared_buffers (integer)", "json.dump(…)")
# labels its sentences even when it looks like code.
# A command-line option ("--schema-only"), a signature or a typed setting ending in ")"
# ("json.dump(obj, fp, …)", "shared_buffers (integer)"), or one identifier ("autovacuum_naptime").
_TERM_HEADING = re.compile(
    r"^-{1,2}\w|^@?(?:class |coroutine |exception |async |awaitable |abstractmethod )?[\w.]+\s?\(.*\)$"
    r"|^[A-Za-z][\w.]*[_.][\w.]*\w$"
)
# Sphinx's version notes ("Changed in version 3.5: stdout and stderr attributes added") end
# without a full stop; each is a sentence of its own.
_VERSION_NOTE = re.compile(r"^\s*(?:New in version|Changed in version|Deprecated since version)\b")
# A table row as parsers flatten it, one line a row: "Directive: %H; Meaning: Hour (24-hour
# clock) as a zero-padded decimal number.; Example: 00, 01, …, 23; Notes: (9)".
_RECORD = re.compile(r"^\s*[^\s:;][^:;]{0,40}: [^;]*; [^:;]{1,40}: ")
# Code that parsers keep as plain lines (HTML <pre> without fences): an SQL statement or
# comment, a Python definition, import or assignment starts it ...
_SQL_START = re.compile(
    r"^\s*(?:SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER|DROP|GRANT|REVOKE|BEGIN|COMMIT|"
    r"ROLLBACK|WITH|EXPLAIN|VACUUM|ANALYZE|COPY|SET|SHOW|TRUNCATE|PREPARE|EXECUTE|DECLARE|"
    r"FETCH|LOCK|REINDEX|CLUSTER|CALL|VALUES)\b"
)
_SQL_COMMENT = re.compile(r"^\s*--(?:\s|$)")
_PY_START = re.compile(
    r"^\s*(?:(?:async )?def \w+\(|class \w+.*:$|import \w|from [\w.]+ import \w|@\w)"
)
_ASSIGNMENT = re.compile(r"^\s*[\w.]+(?:\[[^\]]*\])*\s*(?:=|\+=|-=)\s*\S")
_CODE_SIGN = re.compile(r"[(;,=*'{]|::|\b[a-z_][a-z0-9_]*\b")
# ... and indented lines, closing brackets, further SQL clauses, calls and lines that end in
# ";", "(" or "," go on with it.
_CODE_GOES_ON = re.compile(
    r"^(?:\s{2,}|\t)\S|^\s*[)\]}]|^\s*(?:FROM|WHERE|AND|OR|ON|USING|JOIN|LEFT|RIGHT|INNER|"
    r"ORDER|GROUP|HAVING|LIMIT|OFFSET|UNION|RETURNING|INHERITS|PARTITION|RETURNS|LANGUAGE|AS|"
    r"END|FOR|TO|WITH|SET|VALUES)\b|^\s*[\w.]+\(.*\)\s*;?\s*$|[;(,]\s*$|"
    r"^\s*(?:return|yield|pass|raise|print|for|while|if|elif|else|try|except|finally|with)\b"
)
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.?\s")
_CODE_LIKE = re.compile(r"[=;{}#]|^(?:def|for|if|return|yield|import|from|print|async|await)\b")
LABEL_MAX_CHARS = 160
ADMONITIONS = frozenset(
    ["note", "notes", "warning", "tip", "important", "caution", "see also", "example", "examples"]
)
_ENDS_SENTENCE = re.compile(r"[.!?。！？；;:：]\s*$")
_ENDS_CLAUSE = re.compile(r"[.!?。！？；;:：,，]\s*$")
# A line this short without end punctuation, after a blank line or a finished sentence, heads
# what follows (parsers keep headings as plain lines).
HEADING_MAX_WORDS = 8
HEADING_MAX_CJK = 20
# An FAQ's question on a line of its own is a heading up to this long.
QUESTION_HEADING_MAX_WORDS = 20
QUESTION_HEADING_MAX_CJK = 60
_QUESTION_END = re.compile(r"[?？]$")
# Lines after a lead-in line become list items when there are at least two this short.
LINE_ITEM_MAX_CHARS = 100
# A sentence after code that opens with one of these goes on from the code ("restore_command =
# 'cp …'" then "which will copy previously archived WAL segments …"): quoted alone it says
# nothing, so it is quoted with the code.
_CONTINUES = re.compile(
    r"^(?:which|where|whereby|that|and|or|but|so|then|while|whereas|giving|producing|"
    r"returning|yielding)\b"
)
# "New in version 3.2." alone dates what is around it and answers nothing (with what changed
# after it, "Changed in version 3.5: …" stays a passage).
_BARE_VERSION_NOTE = re.compile(
    r"^(?:new|added|changed|deprecated)(?: in| since)? version [\d.]+\.?$", re.IGNORECASE
)


@dataclass(frozen=True)
class Unit:
    """A passage that can answer: a sentence, a list item, a whole list, a table row, code."""

    text: str  # as quoted (Markdown: list lines, table rows, fences)
    chunk: KnowledgeChunk
    rank: int  # the chunk's position in the retrieval order
    order: int  # reading position among all passages
    terms: frozenset[str]
    score_text: str  # what is compared with the question: headings and lead-in included
    kind: str = "sentence"  # sentence | item | list | row | code
    block: bool = False  # quoted on lines of its own (lists, rows, code)
    group: int = -1  # the list or table it belongs to (-1: none)
    head: str = ""  # what introduces the group when quoted: lead-in, or table header and rule
    members: frozenset[int] = field(default_factory=frozenset)  # a whole list: its items' orders
    label: str = ""  # the term heading it explains, said before it in the answer
    phrases: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # adjacent terms
    heading: str = ""  # the heading it sits under: passages of one chunk under one are a section


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


def _content_terms(words: Sequence[str]) -> frozenset[str]:
    # Single Latin letters are possessive "s", initials and list markers, never content.
    return frozenset(
        _stem(w) for w in words if w not in STOP_WORDS and not (len(w) == 1 and w.isascii())
    )


def _word_pairs(words: Sequence[str]) -> frozenset[tuple[str, str]]:
    stems = [_stem(w) for w in words]
    return frozenset(
        (a, b)
        for a, b in zip(stems, stems[1:], strict=False)
        if not (a in STOP_WORDS and b in STOP_WORDS) and len(a) > 1 and len(b) > 1
    )


def _terms(text: str) -> frozenset[str]:
    """Normalised content terms of `text`: jieba tokens, stemmed, stop-words dropped."""
    return _content_terms(tokens(text))


def _phrases(text: str) -> frozenset[tuple[str, str]]:
    """Adjacent token pairs of `text`, stemmed, where at least one is a content word: "sort
    keys" of "sort_keys", "with recursive", "schema only" of "--schema-only"."""
    return _word_pairs(tokens(text))


@functools.lru_cache(maxsize=8192)
def _analysed(text: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """A passage's terms and adjacent word pairs, segmented once (chunks come back often)."""
    words = tokens(text)
    return _content_terms(words), _word_pairs(words)


def is_mostly_cjk(text: str) -> bool:
    """True for Chinese text with some Latin terms in it ("如何把 CSV 文件导入 PostgreSQL？"):
    at least one CJK character for every two Latin letters, to answer in Chinese."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and cjk * 2 >= len(_LATIN.findall(text))


def _bracketed(line: str) -> list[tuple[int, int]]:
    """The spans of the line's closed brackets, outermost only: "(with ALTER TABLE ... ENABLE
    ROW LEVEL SECURITY)" or "(e.g. 3. 5)". An unclosed one protects nothing."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for index, char in enumerate(line):
        if char in "(（[":
            stack.append((char, index))
        elif char in _BRACKETS:
            while stack and stack[-1][0] != _BRACKETS[char]:
                stack.pop()  # an opener closed by another kind of bracket: not a pair
            if stack:
                _, start = stack.pop()
                if not stack and index - start <= BRACKET_MAX_CHARS:
                    spans.append((start, index))
    return spans


def _split_line(line: str) -> list[str]:
    """One line's sentences: cut after each sentence end outside brackets and abbreviations."""
    spans = _bracketed(line)
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        if any(a < end - 1 < b for a, b in spans):
            continue  # "(The only exceptions to this rule are … functions.)" stays whole
        if _ABBREVIATION.search(line[start:end]):
            continue
        parts.append(line[start:end])
        start = end
    parts.append(line[start:])
    return parts


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split at English and Chinese sentence ends (not inside brackets,
    not after an abbreviation or an ellipsis) and at newlines."""
    sentences: list[str] = []
    for line in text.splitlines():
        for part in _split_line(line):
            part = part.strip()
            if part and not _TRAILING_PUNCT.fullmatch(part):
                sentences.append(part)
    return sentences


def _dedupe_key(text: str) -> str:
    return _TRAILING_PUNCT.sub("", _SPACES.sub(" ", text.lower())).strip()


def _join_lines(lines: Sequence[str]) -> str:
    """Hard-wrapped lines as one paragraph: a space between Latin words, none between CJK."""
    out = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if out and not (_CJK.match(line[0]) and _CJK.match(out[-1])):
            out += " "
        out += line
    return out


def _is_heading_like(line: str) -> bool:
    """A short line without end punctuation: a title that parsers kept as plain text."""
    text = line.strip()
    if not text or _ENDS_CLAUSE.search(text) or _BULLET.match(line) or _TABLE_ROW.match(line):
        return False
    cjk = len(_CJK.findall(text))
    if cjk:
        return cjk <= HEADING_MAX_CJK and len(text) <= HEADING_MAX_CJK * 2
    return len(text.split()) <= HEADING_MAX_WORDS


def _is_question(unit: Unit) -> bool:
    """A sentence that asks (an FAQ's question cut from its answer, "Why does it restart?"):
    it answers nothing, so it is never quoted, chosen, followed on to or picked for a section."""
    return unit.kind == "sentence" and bool(_QUESTION_END.search(unit.text))


def _is_question_heading(lines: list[str], index: int) -> bool:
    """A question on a line of its own with text under it: an FAQ's heading ("How to switch
    the document engine to Infinity?") that parsers kept as plain text. It says what the text
    under it answers, and is no answer itself."""
    text = lines[index].strip()
    if not _QUESTION_END.search(text) or _BULLET.match(lines[index]) or _TABLE_ROW.match(text):
        return False
    if index + 1 >= len(lines) or not lines[index + 1].strip():
        return False
    cjk = len(_CJK.findall(text))
    if cjk:
        return len(text) <= QUESTION_HEADING_MAX_CJK
    return len(text.split()) <= QUESTION_HEADING_MAX_WORDS


@dataclass
class _Block:
    kind: str  # heading | paragraph | list | table | code
    lines: list[str]
    lead: str = ""  # a lead-in ("… as follows:") that introduces this block
    heading: str = ""  # the nearest heading above
    tail: str = ""  # code only: the sentence after it that goes on from it ("which will …")


def _without_rules(lines: list[str]) -> list[str]:
    """The lines with thematic breaks ("---") and admonition fences (":::note", ":::") blank,
    outside code blocks: they separate what is around them and say nothing themselves (an
    answer quoting "openai-api-compatible" over "---" would show it as a heading)."""
    out: list[str] = []
    fence = ""
    for line in lines:
        opened = _FENCE.match(line)
        if fence:
            if line.lstrip().startswith(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
        elif _RULE_LINE.match(line):
            line = ""
        out.append(line)
    return out


def _raw_blocks(content: str) -> list[_Block]:
    """The chunk's lines grouped into headings, paragraphs, lists, tables and code."""
    lines = _without_rules(markdown_tables(content).splitlines())  # HTML tables (PDF, Word) too
    blocks: list[_Block] = []
    index = 0
    after_break = True  # at the start, after a blank line or a finished sentence
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            index += 1
            after_break = True
            continue
        fence = _FENCE.match(line)
        if fence:
            end = index + 1
            while end < len(lines) and not lines[end].lstrip().startswith(fence.group(1)):
                end += 1
            blocks.append(_Block("code", lines[index : end + 1]))
            index, after_break = end + 1, True
            continue
        if _starts_code(line):
            end = _code_lines(lines, index)
            blocks.append(_Block("code", ["```", *lines[index:end], "```"]))
            index, after_break = end, True
            continue
        atx = _ATX_HEADING.match(line)
        if atx or (
            after_break
            and (_is_heading_like(line) or _is_question_heading(lines, index))
            and not _last_is_lead(blocks)
        ):
            title = atx.group(1) if atx else _ANCHOR.sub("", stripped)
            blocks.append(_Block("heading", [title.strip()]))
            index, after_break = index + 1, True
            continue
        if _TABLE_ROW.match(line):
            end = index
            while end < len(lines) and _TABLE_ROW.match(lines[end]):
                end += 1
            blocks.append(_Block("table", lines[index:end]))
            index, after_break = end, True
            continue
        if _BULLET.match(line):
            items: list[str] = []
            end = index
            fenced = False  # inside a code block that belongs to the item
            while end < len(lines):
                current = lines[end]
                if fenced or (items and current[:1].isspace() and _ITEM_BLOCK.match(current)):
                    # A quote or code block inside the item keeps its lines (and indentation),
                    # so it renders as what it is, not as "> ```bash > sysctl …" run together.
                    items[-1] += "\n" + current.rstrip()
                    if _FENCE.match(current.lstrip(" >")) or _FENCE.match(current.strip()):
                        fenced = not fenced
                elif _BULLET.match(current):
                    items.append(current.strip())
                elif current.strip() and items and (current[:1].isspace()):
                    items[-1] += " " + current.strip()  # an item's wrapped continuation
                elif not current.strip() and end + 1 < len(lines) and _BULLET.match(lines[end + 1]):
                    pass  # a loose list: a blank line between items
                else:
                    break
                end += 1
            blocks.append(_Block("list", items))
            index, after_break = end, True
            continue
        if _PROMPT.match(line):
            # An interactive session or shell commands (doctest ">>> ", "$ "), with its output.
            end = index + 1
            while end < len(lines) and _continues_session(lines[end]):
                end += 1
            blocks.append(_Block("code", ["```", *lines[index:end], "```"]))
            index, after_break = end, True
            continue
        # Prose: lines join while a sentence runs on (hard-wrapped text); a line that ends a
        # sentence, a lead-in, a blank line or a structure ends the paragraph.
        end = index
        para: list[str] = []
        while end < len(lines):
            current = lines[end]
            if not current.strip() or _FENCE.match(current) or _BULLET.match(current):
                break
            if _TABLE_ROW.match(current) or _ATX_HEADING.match(current) or _PROMPT.match(current):
                break
            if para and _starts_code(current) and _ENDS_SENTENCE.search(para[-1]):
                break
            if para and (
                _ANCHOR.search(current) or _VERSION_NOTE.match(current) or _RECORD.match(current)
            ):
                break  # a Sphinx heading, a version note or a table record starts afresh
            if para and _is_heading_like(current) and _ENDS_SENTENCE.search(para[-1]):
                break
            para.append(current)
            end += 1
            if _ENDS_SENTENCE.search(current) or _ANCHOR.search(current):
                break
            if _VERSION_NOTE.match(current) or _RECORD.match(current):
                break
        following = _plain_item_lines(lines, end) if _LEAD_IN.search(para[-1]) else []
        if len(para) == 1 and _ANCHOR.search(para[0]):
            blocks.append(_Block("heading", [_ANCHOR.sub("", para[0]).strip()]))
        else:
            blocks.append(_Block("paragraph", para))
        if following:
            blocks.append(_Block("list", [line.strip() for line in following]))
            end += len(following)
        index = end
        after_break = bool(_ENDS_SENTENCE.search(para[-1]) or _ANCHOR.search(para[-1]))
    return blocks


def _starts_code(line: str) -> bool:
    """Whether `line` starts plain code: "CREATE TABLE order_items (", "-- Create policies",
    "def reset(tarinfo):", "tar = tarfile.open(...)"; not "UPDATE statements may use …." nor a
    title such as "CREATE TABLE AS"."""
    text = line.strip()
    if not text or _CJK.search(text) or _ANCHOR.search(text):
        return False  # "@functools.lru_cache(maxsize=128)¶" is a heading
    if _SQL_COMMENT.match(text):
        return True
    if len(text.split()) >= 5 and re.search(r"[.!?]$", text):
        return False  # "x = 5 is the default." is a sentence
    if _PY_START.match(text) or _ASSIGNMENT.match(text):
        return True
    return bool(
        _SQL_START.match(text)
        and not re.search(r"[.:?!]\s*$", text)
        and _CODE_SIGN.search(text.split(None, 1)[1] if " " in text else "")
    )


def _is_prose(line: str) -> bool:
    """Whether a line in or after plain code is prose again: unindented words that end a
    sentence or read as words ("We must redefine the trigger function each month so that it
    always"), not "FROM tenk1 t1, tenk2 t2", "LANGUAGE plpgsql;" nor "Planning Time: 0.2 ms"."""
    text = line.strip()
    if not text or line[:1].isspace() or _CJK.search(text):
        return bool(_CJK.search(text))
    if _starts_code(line) or _CODE_GOES_ON.search(line):
        return False
    words = text.split()
    if len(words) < 4 or text.endswith((";", "(", ",", "{")):
        return False
    if words[0][:1].isupper() and re.search(r"[.:?!]$", text):
        return True
    plain = sum(1 for w in words if w.isalpha() and w.islower())
    return plain >= 0.6 * len(words)


def _code_lines(lines: list[str], start: int) -> int:
    """The end of the plain code that starts at lines[start]: up to prose (blank lines
    included when code, or its indented output, follows them)."""
    end = start + 1
    while end < len(lines):
        current = lines[end]
        if not current.strip():
            after = end
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after < len(lines) and (
                _starts_code(lines[after])
                or (lines[after][:1].isspace() and not _BULLET.match(lines[after]))
            ):
                end = after
                continue
            break
        if _is_prose(current) or _PROMPT.match(current) or _FENCE.match(current):
            break
        if _ANCHOR.search(current) or _BULLET.match(current) or _TABLE_ROW.match(current):
            break
        end += 1
    return end


def _continues_session(line: str) -> bool:
    """Whether `line` still belongs to an interactive session: a prompt, or output (not prose)."""
    text = line.strip()
    if not text or _PROMPT.match(line) or text.startswith("..."):
        return bool(text)
    if _LEAD_IN.search(text) or _ANCHOR.search(text):
        return False
    return not (_ENDS_SENTENCE.search(text) and len(text.split()) >= 4 and text[0].isupper())


def _last_is_lead(blocks: list[_Block]) -> bool:
    return (
        bool(blocks)
        and blocks[-1].kind == "paragraph"
        and bool(_LEAD_IN.search(blocks[-1].lines[-1]))
    )


def _plain_item_lines(lines: list[str], start: int) -> list[str]:
    """Short lines right after a lead-in line, up to a blank line: a list without bullets."""
    out: list[str] = []
    for line in lines[start:]:
        if not line.strip() or _BULLET.match(line) or _FENCE.match(line) or _TABLE_ROW.match(line):
            break
        if _PROMPT.match(line) or _ANCHOR.search(line) or _starts_code(line):
            break
        if len(line.strip()) > LINE_ITEM_MAX_CHARS:
            return []
        if _ENDS_SENTENCE.search(line) and not _LEAD_IN.search(line):
            break  # a finished sentence is prose again
        out.append(line)
    return out if len(out) >= 2 else []


def _blocks(content: str) -> list[_Block]:
    """Blocks with their context: each lead-in moves onto the block it introduces, each block
    knows its heading; headings and lone lead-ins are never blocks of their own."""
    out: list[_Block] = []
    heading = ""
    raw = _raw_blocks(content)
    for position, block in enumerate(raw):
        if block.kind == "heading":
            heading = block.lines[0]
            continue
        block.heading = heading
        nxt = raw[position + 1] if position + 1 < len(raw) else None
        if block.kind == "paragraph":
            sentences = split_sentences(_join_lines(block.lines))
            if sentences and _LEAD_IN.search(sentences[-1]):
                lead = sentences.pop()
                if nxt is not None and nxt.kind != "heading":
                    nxt.lead = lead  # "Check the hardware requirements:" + the list
            if (
                sentences
                and out
                and raw[position - 1] is out[-1]  # right after the code
                and out[-1].kind == "code"
                and not out[-1].tail
                and _CONTINUES.match(sentences[0])
            ):
                out[-1].tail = sentences.pop(0)
            if not sentences:
                continue
            block.lines = sentences
        out.append(block)
    return out


def _label(heading: str) -> str:
    """The heading a sentence sits under, as a short label said before it ("shared_buffers
    (integer): Sets …", "BRIN: …"); "" for none, or for a line of code taken for a heading."""
    heading = _SECTION_NUMBER.sub("", heading).strip()
    if not heading or (_CODE_LIKE.search(heading) and not _TERM_HEADING.search(heading)):
        return ""
    if (
        heading.lower() in ADMONITIONS
        or ": " in heading
        or heading.count("(") != heading.count(")")
        or _QUESTION_END.search(heading)
    ):
        # "Note", "Source code: Lib/csv.py", "CREATE TABLE t (": not what it is about; an FAQ's
        # question is what the asker asked already.
        return ""
    if len(heading) > LABEL_MAX_CHARS and "(" in heading:
        heading = heading[: heading.index("(")] + "(…)"
    return heading if len(heading) <= LABEL_MAX_CHARS else heading[: LABEL_MAX_CHARS - 1] + "…"


def _units_of(chunk: KnowledgeChunk, rank: int, start: int, groups: list[int]) -> list[Unit]:
    """The passages of one chunk, numbered from `start`; `groups` counts lists and tables."""
    units: list[Unit] = []
    heading = ""  # of the block being read

    def add(text: str, score_text: str, **kwargs: object) -> Unit:
        score_text = _MARKDOWN_LINK.sub(r"\1", score_text)  # what it says, not where it links
        terms, phrases = _analysed(score_text)
        unit = Unit(
            text=text,
            chunk=chunk,
            rank=rank,
            order=start + len(units),
            terms=terms,
            score_text=score_text,
            phrases=phrases,
            heading=heading,
            **kwargs,  # type: ignore[arg-type]
        )
        units.append(unit)
        return unit

    for block in _blocks(chunk.content):
        heading = block.heading
        context = f"{block.heading}\n{block.lead}".strip()
        label = _label(block.heading)
        if block.kind == "paragraph":
            # A lead-in (from the paragraph before, or a sentence ending in ":") is quoted with
            # the sentence it introduces.
            pending = block.lead
            for sentence in block.lines:
                if _LEAD_IN.search(sentence):
                    pending = f"{pending} {sentence}".strip()
                    continue
                text = f"{pending} {sentence}".strip()
                pending = ""
                add(text, f"{block.heading}\n{text}".strip(), label=label)
        elif block.kind == "list":
            groups.append(1)
            group = len(groups)
            items = [
                add(
                    item,
                    f"{context}\n{item}",
                    kind="item",
                    block=True,
                    group=group,
                    head=block.lead,
                )
                for item in block.lines
            ]
            whole = "\n".join(block.lines)
            if 1 < len(items) <= MAX_LIST_ITEMS and len(whole) <= MAX_BLOCK_CHARS:
                add(
                    whole,
                    f"{context}\n{whole}",
                    kind="list",
                    block=True,
                    group=group,
                    head=block.lead,
                    members=frozenset(i.order for i in items),
                )
        elif block.kind == "table":
            rows = [r for r in block.lines if not _TABLE_RULE.match(r)]
            if len(rows) < 2:
                continue
            groups.append(1)
            group = len(groups)
            header = rows[0].strip()
            rule = "|" + "|".join(" --- " for _ in range(max(header.count("|") - 1, 1))) + "|"
            head = f"{block.lead}\n{header}\n{rule}".strip()
            for row in rows[1:]:
                add(
                    row.strip(),
                    f"{context}\n{header}\n{row}",
                    kind="row",
                    block=True,
                    group=group,
                    head=head,
                )
        elif block.kind == "code":
            groups.append(1)
            group = len(groups)
            pieces = _code_pieces(block.lines)
            if block.tail:
                pieces[-1] = f"{pieces[-1]}\n{block.tail}"
            for code in pieces:
                # Each statement is read with the lead-in that introduces the whole example.
                add(
                    code,
                    f"{context}\n{code}",
                    kind="code",
                    block=True,
                    group=group,
                    head=block.lead,
                )
    return units


def _code_pieces(lines: list[str]) -> list[str]:
    """A code block as quoted: whole when short, else in pieces of whole statements (the three
    CREATE TABLE statements of an example; a def, then the calls after it) of at most
    CODE_PIECE_CHARS, each fenced; a longer statement by runs of its lines, marked "…", so every
    line can still be quoted."""
    code = "\n".join(lines)
    if len(code) <= CODE_PIECE_CHARS:
        return [code]
    fence = lines[0].strip()[:3] if lines and _FENCE.match(lines[0]) else ""
    body = lines[1:-1] if fence and len(lines) > 1 and _FENCE.match(lines[-1]) else lines
    fence = fence or "```"
    limit = CODE_PIECE_CHARS - 2 * len(fence) - 2
    statements: list[list[str]] = []  # a statement after a blank line opens with ""
    blank = False
    for line in body:
        if not line.strip():
            blank = bool(statements)
        elif statements and not blank and not _starts_statement(statements[-1][-1], line):
            statements[-1].append(line)
        else:
            statements.append(["", line] if blank else [line])
            blank = False
    pieces: list[list[str]] = []
    for statement in statements:
        for run in _runs(statement, limit):
            if pieces and len("\n".join([*pieces[-1], *run])) <= limit:
                pieces[-1] = [*pieces[-1], *run]
            else:
                pieces.append(run[1:] if run[0] == "" else run)
    return [f"{fence}\n{chr(10).join(p)}\n{fence}" for p in pieces]


def _starts_statement(previous: str, line: str) -> bool:
    """Whether `line` begins a new statement of plain code after `previous`: any line after a
    finished SQL statement (its output too), an unindented one after an indented block
    (Python's dedent), or a new definition, import or assignment after a line that does not run
    on."""
    if re.match(r"\s*(?:[)\]}]|else\b|elif\b|except\b|finally\b)", line):
        return False
    ended = previous.rstrip()
    if ended.endswith(";"):
        return True  # the output of a query, or the next statement
    if line[:1].isspace():
        return False
    if ended.endswith((",", "(", "[", "{", "\\")) or _SQL_COMMENT.match(previous):
        return False
    return _starts_code(line) and (previous[:1].isspace() or not _SQL_START.match(previous))


def _runs(statement: list[str], limit: int) -> list[list[str]]:
    """A statement as runs of whole lines of at most `limit` characters, cut ones marked "…"."""
    if len("\n".join(statement)) <= limit:
        return [statement]
    runs: list[list[str]] = [[]]
    for line in statement:
        line = line if len(line) <= limit - 2 else line[: limit - 3] + "…"
        if runs[-1] and len("\n".join([*runs[-1], line])) > limit - 2:
            runs.append([])
        runs[-1].append(line)
    return [[*run, "…"] if n < len(runs) else run for n, run in enumerate(runs, 1)]


def passages(knowledge: Sequence[KnowledgeChunk]) -> list[Unit]:
    """Every distinct passage of the chunks, credited to the best-ranked chunk holding it. The
    same words under another term are another passage: "The return value is … seconds since
    the epoch" says it of getatime, getmtime and getctime alike."""
    seen: set[str] = set()
    out: list[Unit] = []
    groups: list[int] = []
    for rank, chunk in enumerate(knowledge):
        for unit in _units_of(chunk, rank, len(out), groups):
            key = f"{unit.label}\n{_dedupe_key(unit.text)}"
            if key in seen or not unit.terms or _BARE_VERSION_NOTE.match(unit.text):
                continue
            seen.add(key)
            out.append(unit)
    # Keep `order` dense and members consistent after dropping repeats.
    return out


# --- embeddings -------------------------------------------------------------------------------


class _VectorCache:
    """L2-normalised rows for texts, remembering the most recent `size` of them (chunks and a
    knowledge base's words come back question after question), stored as `dtype`."""

    def __init__(self, size: int, dtype: type[np.floating] = np.float32) -> None:
        self.size = size
        self.dtype = dtype
        self._rows: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, model_id: str, texts: list[str]) -> np.ndarray:
        from knowledge.embeddings import embed_texts

        rows: list[np.ndarray | None] = []
        missing: list[int] = []
        with self._lock:
            for index, text in enumerate(texts):
                row = self._rows.get((model_id, text))
                if row is None:
                    missing.append(index)
                else:
                    self._rows.move_to_end((model_id, text))
                rows.append(row)
        if missing:
            fresh = embed_texts(model_id, [texts[i] for i in missing]).astype(
                self.dtype, copy=False
            )
            with self._lock:
                for index, row in zip(missing, fresh, strict=True):
                    rows[index] = row
                    self._rows[(model_id, texts[index])] = row
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([r for r in rows if r is not None]).astype(np.float32, copy=False)


# Passages (and the questions) as embedded; single words apart, at half the size a row.
_passage_vectors = _VectorCache(8192)
_word_vectors = _VectorCache(16384, np.float16)


def _similarities(
    model_id: str,
    question: str,
    units: list[Unit],
    chosen: list[int],
    extra: dict[int, str] | None = None,
) -> tuple[dict[int, float], dict[int, np.ndarray], dict[int, float]]:
    """Cosine of each embedded passage (by index) with the question, the passage vectors, and
    the cosine of each `extra` text (by key) with the question; one batch for all."""
    extra = extra or {}
    if not model_id or not chosen:
        return {}, {}, {}
    try:
        texts = [units[i].score_text[:EMBED_CHARS] for i in chosen]
        texts += [text[:SECTION_EMBED_CHARS] for text in extra.values()]
        vectors = _passage_vectors.embed(model_id, [question, *texts])
    except Exception:  # noqa: BLE001 - an unreachable embedding service: answer by terms alone
        logger.warning("embedding for the extractive answer failed", exc_info=True)
        return {}, {}, {}
    question_vector = vectors[0]
    cosines = vectors[1:] @ question_vector
    return (
        {i: float(c) for i, c in zip(chosen, cosines[: len(chosen)], strict=True)},
        {i: vectors[k + 1] for k, i in enumerate(chosen)},
        {key: float(c) for key, c in zip(extra, cosines[len(chosen) :], strict=True)},
    )


# --- choosing ---------------------------------------------------------------------------------


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _overlaps(a: Unit, b: Unit) -> bool:
    """One holds the other: a whole list and one of its items."""
    return a.order in b.members or b.order in a.members


def _rendered(question: str, embedding_model: str) -> str:
    """What passages are compared with: a Chinese question over an English-only model in its
    English rendering (CC-CEDICT glosses, as retrieval found the chunks), else the question."""
    if not embedding_model:
        return question
    from knowledge import crosslingual  # the dictionary loads on first Chinese question

    return crosslingual.embedding_text(embedding_model, question)


@dataclass
class Scored:
    """Every passage of the chunks with what was measured against the question."""

    units: list[Unit]
    shares: list[float]  # IDF-weighted share of the question's terms
    cosines: dict[int, float]  # embedding similarity, for the passages embedded
    vectors: dict[int, np.ndarray]
    relevance: dict[int, float]  # the passages that qualify, by index
    sections: list[tuple[float, list[int]]] = field(default_factory=list)  # (cosine, passages)


def _soft_groups(
    terms: frozenset[str], units: Sequence[Unit], model_id: str
) -> list[frozenset[str]]:
    """Each English question term with the passages' words whose MiniLM vectors are within
    SOFT_TERM_COSINE of its own: a question in other words ("pack a folder into a zip
    file") meets the passage's ("archive a directory") on more than the words they share."""
    plain = [frozenset([t]) for t in sorted(terms)]
    if model_id not in SOFT_TERM_MODELS or not terms or len(terms) > SOFT_QUESTION_TERMS:
        return plain
    vocabulary: dict[str, None] = {}
    for unit in units:  # in retrieval order, then reading order
        for word in sorted(unit.terms - terms):
            if len(word) > 2 and word.isascii() and any(c.isalpha() for c in word):
                vocabulary[word] = None
        if len(vocabulary) >= SOFT_VOCABULARY:
            break
    words = list(vocabulary)[:SOFT_VOCABULARY]
    asked = [t for t in sorted(terms) if t.isascii()]
    if not words or not asked:
        return plain
    try:
        vectors = _word_vectors.embed(model_id, asked + words)
    except Exception:  # noqa: BLE001 - an unreachable embedding service: the terms alone
        logger.warning("embedding words for the extractive answer failed", exc_info=True)
        return plain
    cosines = vectors[len(asked) :] @ vectors[: len(asked)].T  # (words, asked)
    near: dict[str, frozenset[str]] = {}
    for k, term in enumerate(asked):
        column = cosines[:, k]
        best = np.argsort(-column)[:SOFT_TERMS]
        near[term] = frozenset(words[i] for i in best if column[i] >= SOFT_TERM_COSINE)
    return [frozenset([t]) | near.get(t, frozenset()) for t in sorted(terms)]


def _question_groups(
    question: str, units: Sequence[Unit], embedding_model: str = ""
) -> list[frozenset[str]]:
    """The question's terms, each with the forms that stand for it in a passage. An English
    question's words come with the passages' words close to them in the embedding model
    (`_soft_groups`). A Chinese question's words come with their English glosses (CC-CEDICT,
    as retrieval matched the chunks: "回收" -> recycle / reclaim / retrieve) as separate
    alternatives; those no passage holds are left out (over English text a Chinese word is no
    missing evidence, nor over Chinese text an English gloss)."""
    terms = _terms(question)
    if not _CJK.search(question):
        return _soft_groups(terms, units, embedding_model)
    from knowledge import crosslingual  # the dictionary loads on first Chinese question

    held = frozenset().union(*(u.terms for u in units)) if units else frozenset()
    groups = [frozenset([t]) for t in terms if not _CJK.search(t) or t in held]
    for glosses in crosslingual.gloss_groups(question):
        group = frozenset(_stem(w) for w in glosses if w not in STOP_WORDS) & held
        if group:
            groups.append(group)
    return list(dict.fromkeys(groups))


def score_passages(
    question: str, knowledge: Sequence[KnowledgeChunk], embedding_model: str = ""
) -> Scored:
    """Each passage's relevance to `question` (terms and, with a model, embeddings)."""
    rendered = _rendered(question, embedding_model)
    units = passages(knowledge)
    total = len(units)
    groups = _question_groups(question, units, embedding_model)

    def idf(group: frozenset[str]) -> float:
        # BM25's smoothed IDF: always positive, largest for terms few passages contain.
        df = sum(1 for u in units if group & u.terms)
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    weights = [(group, idf(group)) for group in groups]
    norm = sum(w for _, w in weights) or 1.0
    shares = [sum(w for g, w in weights if g & u.terms) / norm for u in units]

    # Sections: the passages of one chunk under one heading ("coroutine asyncio.wait_for(aw,
    # timeout)" and its sentences). A question in other words often matches what a section says
    # as a whole while no single sentence of it holds enough of its words ("cancel ... if it
    # takes longer than five seconds" against "Wait for the aw awaitable to complete with a
    # timeout. ... If a timeout occurs, it cancels the task"); each section is embedded too.
    members: dict[tuple[int, str], list[int]] = {}
    for i, unit in enumerate(units):
        members.setdefault((unit.rank, unit.heading), []).append(i)
    sections = [m for m in members.values() if len(m) > 1][:SECTION_EMBED_LIMIT]
    section_texts = {
        k: f"{units[m[0]].heading}\n{' '.join(units[i].text for i in m)}".strip()
        for k, m in enumerate(sections)
    }

    # Embed the passages most likely to matter: those sharing terms first, then by rank.
    ordered = sorted(range(total), key=lambda i: (-shares[i], units[i].rank, units[i].order))
    cosines, vectors, section_cosines = _similarities(
        embedding_model, rendered, units, ordered[:EMBED_LIMIT], section_texts
    )
    weight = EMBEDDING_WEIGHT if cosines else 0.0
    if (
        weight
        and rendered == question
        and embedding_model in ENGLISH_ONLY_MODELS
        and is_mostly_cjk(question)
    ):
        weight = EMBEDDING_WEIGHT_ENGLISH_ONLY_MODEL_CJK

    question_phrases = _phrases(question)
    relevance: dict[int, float] = {}
    for i, unit in enumerate(units):
        if _is_question(unit):
            continue
        cosine = cosines.get(i, 0.0)
        semantic = max(0.0, (cosine - EMBEDDING_FLOOR) / (1 - EMBEDDING_FLOOR))
        score = (1 - weight) * shares[i] + weight * semantic
        if score < MIN_SCORE:
            continue
        if question_phrases:
            # Words of the question in its order ("sort_keys", "WITH RECURSIVE") say more
            # than the same words scattered.
            score += PHRASE_WEIGHT * len(question_phrases & unit.phrases) / len(question_phrases)
        if unit.kind == "code":
            score *= CODE_WEIGHT  # its many words hold question terms by chance
        relevance[i] = score + RANK_BONUS / (1 + unit.rank)
    section_scores = [
        (section_cosines[k], m) for k, m in enumerate(sections) if k in section_cosines
    ]
    return Scored(units, shares, cosines, vectors, relevance, section_scores)


def select_passages(
    question: str, knowledge: Sequence[KnowledgeChunk], embedding_model: str = ""
) -> list[Unit]:
    """The passages that answer `question`, best first (at most MAX_UNITS), or [] for none."""
    scored = score_passages(question, knowledge, embedding_model)
    units, vectors, relevance = scored.units, scored.vectors, scored.relevance
    if not relevance:
        return []
    best = max(relevance.values())
    pool = {i: r for i, r in relevance.items() if r >= best * RELATIVE_CUTOFF}

    def similarity(i: int, j: int) -> float:
        if _overlaps(units[i], units[j]):
            return 1.0
        if i in vectors and j in vectors:
            return float(vectors[i] @ vectors[j])
        return _jaccard(units[i].terms, units[j].terms)

    limit = DUPLICATE_SIMILARITY if vectors else DUPLICATE_JACCARD
    chosen: list[int] = []
    chars = 0
    while pool and len(chosen) < MAX_UNITS:

        def mmr(i: int) -> float:
            redundancy = max((similarity(i, j) for j in chosen), default=0.0)
            return MMR_LAMBDA * pool[i] - (1 - MMR_LAMBDA) * redundancy

        # Ties go to the passage holding more (a whole list over its items), then reading order.
        pick = max(pool, key=lambda i: (mmr(i), len(units[i].members), -units[i].order))
        del pool[pick]
        if any(
            similarity(pick, j) >= limit and units[pick].label == units[j].label for j in chosen
        ):
            continue  # the same thing said twice (not two options described alike)
        size = len(units[pick].text)
        if chosen and chars + size > MAX_CHARS:
            continue
        if units[pick].kind == "code" and sum(units[j].kind == "code" for j in chosen) >= MAX_CODE:
            continue  # an example or two show how; more only make the answer long
        chosen.append(pick)
        chars += size
    extra = _section_pick(scored, chosen)
    if extra is not None:
        # It takes the place of the least relevant passage, so the answer grows no longer.
        if len(chosen) >= MAX_UNITS:
            chosen.pop()
        chosen.append(extra)
    return _followed_on(scored, _short_lists_whole(units, chosen))


def _short_lists_whole(units: list[Unit], chosen: list[int]) -> list[int]:
    """The chosen passages with each item of a short list (SHORT_LIST_ITEMS, SHORT_LIST_CHARS)
    in its whole list's place, in the first such item's place: a question about requirements
    that matches "CPU >= 4 cores" best is answered by the RAM and disk lines beside it too."""
    whole_of = {
        order: i
        for i, unit in enumerate(units)
        if unit.kind == "list"
        and len(unit.members) <= SHORT_LIST_ITEMS
        and len(unit.text) <= SHORT_LIST_CHARS
        for order in unit.members
    }
    out: list[int] = []
    for i in chosen:
        pick = whole_of.get(units[i].order, i) if units[i].kind == "item" else i
        if pick not in out:
            out.append(pick)
    lists = [units[i].members for i in out if units[i].kind == "list"]
    return [i for i in out if not any(units[i].order in members for members in lists)]


def _followed_on(scored: Scored, chosen: list[int]) -> list[Unit]:
    """The chosen passages, each sentence with the sentences after it in its section (same
    chunk, same heading) that still hold some of the question's terms, while it stays within
    FOLLOW_ON_CHARS: "Block until all items in the queue have been processed." goes on with how
    (the count of items goes down when a consumer calls task_done())."""
    units = scored.units
    taken = set(chosen)
    out: list[Unit] = []
    for i in chosen:
        unit = units[i]
        text = unit.text
        if not unit.block:
            j = i + 1
            while (
                j < len(units)
                and j not in taken
                and not units[j].block
                and units[j].rank == unit.rank
                and units[j].heading == unit.heading
                and units[j].order == units[j - 1].order + 1
                and scored.shares[j] > 0
                and not _is_question(units[j])
                and len(text) + 1 + len(units[j].text) <= FOLLOW_ON_CHARS
            ):
                text = f"{text} {units[j].text}"
                taken.add(j)
                j += 1
        out.append(unit if text == unit.text else replace(unit, text=text))
    return out


def _section_pick(scored: Scored, chosen: list[int]) -> int | None:
    """The opening passage of the section most like the question as a whole, when no passage of
    it was chosen: passages are chosen by what each one holds, and a question asked in other
    words is often answered by a section none of whose sentences says it alone."""
    if not scored.sections:
        return None
    cosine, members = max(scored.sections, key=lambda s: (s[0], -s[1][0]))
    if cosine < SECTION_MIN_COSINE or any(i in members for i in chosen):
        return None
    qualified = [i for i in members if i in scored.relevance]
    if qualified:
        return max(qualified, key=lambda i: scored.relevance[i])
    return next((i for i in members if not _is_question(scored.units[i])), None)


# --- composing --------------------------------------------------------------------------------


def _answer_order(chosen: list[Unit]) -> list[Unit]:
    """Chunk by chunk, the chunk of the best passage first; reading order within a chunk."""
    first: dict[int, int] = {}
    for position, unit in enumerate(chosen):
        first.setdefault(unit.rank, position)
    return sorted(chosen, key=lambda u: (first[u.rank], u.order))


def render(chosen: list[Unit], *, quote: bool) -> str:
    """The passages as one Markdown answer, each followed by its `[ID:n]` when quoting."""
    parts: list[tuple[str, bool]] = []  # (text, on lines of its own)
    previous: Unit | None = None
    said = ""  # the label last said
    for unit in _answer_order(chosen):
        marker = f" [ID:{unit.chunk.index}]" if quote else ""
        same_group = previous is not None and unit.group >= 0 and previous.group == unit.group
        if not unit.block:
            labelled = unit.label and unit.label not in unit.text and unit.label != said
            text = f"{unit.label}: {unit.text}" if labelled else unit.text
            said = unit.label or said
            parts.append((text + marker, False))
        elif unit.kind == "code":
            head = f"{unit.head}{marker}\n" if unit.head and not same_group else ""
            parts.append((f"{head}{unit.text}" + ("" if head else f"\n{marker.strip()}"), True))
        else:
            head = f"{unit.head}\n" if unit.head and not same_group else ""
            if marker and _ITEM_BLOCK.match(unit.text.rsplit("\n", 1)[-1]):
                marker = f"\n\n{marker.strip()}"  # not inside the item's quote or code block
            text = f"{head}{unit.text}{marker}"
            if same_group and parts:
                parts[-1] = (f"{parts[-1][0]}\n{unit.text}{marker}", True)
            else:
                parts.append((text, True))
        previous = unit
    out = ""
    for index, (text, block) in enumerate(parts):
        if index:
            out += "\n\n" if block or parts[index - 1][1] else " "
        out += text
    return out.strip()


def compose_answer(request: ChatRequest) -> str:
    """The whole answer: the chosen passages with citations, or the no-answer text."""
    chinese = is_mostly_cjk(request.question)
    if not request.knowledge and not request.has_datasets:
        return NO_DATASETS_ZH if chinese else NO_DATASETS_EN
    chosen = select_passages(request.question, request.knowledge, request.embedding_model)
    if not chosen:
        return no_answer_text(request)
    return render(chosen, quote=request.quote)


def no_answer_text(request: ChatRequest) -> str:
    return request.no_answer or (NOT_FOUND_ZH if is_mostly_cjk(request.question) else NOT_FOUND_EN)


def pieces(text: str) -> list[str]:
    """Stream-sized pieces: a word with its trailing space, or up to three CJK characters."""
    return _PIECES.findall(text)


class ExtractiveChatModel:
    """`ragsite-extractive@Builtin`: answers only by quoting the retrieved chunks."""

    model_id = MODEL_ID
    extractive = True

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the answer word by word, letting other coroutines run between pieces."""
        # jieba's first use loads its dictionary (about a second) and embedding blocks:
        # keep both off the event loop.
        answer = await asyncio.to_thread(compose_answer, request)
        for piece in pieces(answer):
            yield piece
            await asyncio.sleep(0)
