"""The keyword side of a chunk: jieba segmentation so Chinese and English both match.

PostgreSQL's parsers keep an unsegmented CJK run as one token (`知识库检索` never matches
`检索`), so text is segmented here and stored as space-separated tokens; the `simple`
configuration then indexes them without stemming or stop-words (infra.md §5).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

_SPACES = re.compile(r"\s+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$", re.UNICODE)


@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Lower-cased search tokens: jieba's search-mode cut, punctuation dropped.

    jieba never lets a word span whitespace (it cuts runs of CJK, Latin letters, digits and
    `+#&._%-` apart at every other character, and yields whitespace alone, which is dropped
    here), so cutting each whitespace-separated piece on its own gives the same tokens as
    cutting the whole text. A piece's tokens are remembered: prose repeats its words, and
    jieba's dictionary walk over every character of each word was most of the indexing CPU.
    """
    return [token for piece in text.lower().split() for token in _piece_tokens(piece)]


@functools.lru_cache(maxsize=65536)
def _piece_tokens(piece: str) -> tuple[str, ...]:
    words = _jieba().cut_for_search(piece)
    return tuple(w for w in (w.strip() for w in words) if w and not _PUNCT_ONLY.match(w))


def words(text: str) -> list[str]:
    """jieba's accurate-mode words of `text` (no overlapping pieces), punctuation included."""
    return list(_jieba().cut(text))


def segment(text: str) -> str:
    """Space-joined tokens, RAGFlow's `content_ltks`."""
    return _SPACES.sub(" ", " ".join(tokens(text))).strip()


def segment_many(parts: Iterable[str]) -> str:
    return " ".join(filter(None, (segment(part) for part in parts)))


# Words that carry no topic: left out of a question's search terms for scoring and highlighting
# (chunks still index them, so their document frequencies stay exact). Written for questions
# ("what are the …", "如何…？"), hence the question words; negations and numbers stay searchable.
STOP_WORDS_EN = frozenset(
    """
    a about above after again against all also am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn doing
    don down during each either else etc ever every few for from further get gets got had hadn has
    hasn have haven having he her here hers herself him himself his how however i if in into is
    isn it its itself just let lets me might more most must mustn my myself need needs neither nor
    of off on once only or other ought our ours ourselves out over own per please same shall shan
    she should shouldn so some such than that the their theirs them themselves then there these
    they this those through thus to too under until up upon us use used using very via was wasn we
    were weren what whatever when whenever where whereas whether which while who whom whose why
    will with within without won would wouldn yes yet you your yours yourself yourselves
    s t d ll m re ve
    """.split()  # noqa: SIM905 - a word list reads better as text
)
STOP_WORDS_ZH = frozenset(
    """
    的 地 得 了 着 过 是 在 和 与 及 以及 或 或者 而 而且 并 并且 但 但是 就 也 都 还 又 再 才 只
    把 被 让 给 对 对于 从 向 往 于 为 为了 以 由 由于 因为 所以 如果 那么 那 这 这个 那个 这些
    那些 这样 那样 这里 那里 其 其中 之 之一 所 所有 等 等等 各 每 某 一个 一些 一种 有 有的 有些
    没 没有 要 会 能 能够 可以 可 应 应该 需 需要 吗 呢 吧 啊 呀 哦 么 嘛 呐 我 我们 你 你们 您 他
    她 它 他们 她们 它们 自己 什么 怎么 怎样 怎么样 如何 哪 哪个 哪些 哪里 哪儿 几 多少 为什么 为何
    是否 是不是 请 请问 一下 关于 上 下 中 里 时 时候 的话 来 去 个 种 些 即 即可 则 如 比如 例如
    """.split()  # noqa: SIM905 - a word list reads better as text
)
STOP_WORDS = STOP_WORDS_EN | STOP_WORDS_ZH


def is_stop_word(term: str) -> bool:
    return term in STOP_WORDS


def query_terms(text: str) -> list[str]:
    """A question's distinct search terms without stop words, in order of first appearance.

    A question made only of stop words ("what is it") keeps them all: they are all it says.
    """
    terms = list(dict.fromkeys(tokens(text)))
    content = [t for t in terms if t not in STOP_WORDS]
    return content or terms


def variants(term: str) -> list[str]:
    """Inflected forms of an English word that may stand for it (`requirements` → `requirement`,
    `indexes` → `index`, `configured` → `configure`, `configuring`): a search term matches any
    of them that the chunks hold. Conservative on purpose: no derivations, no short words."""
    if not (term.isascii() and term.isalpha()) or len(term) < 4:
        return []
    stems = {term}
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""),
                                ("ed", "e"), ("ing", ""), ("ing", "e")):  # fmt: skip
        if term.endswith(suffix) and len(term) - len(suffix) >= 3 and not term.endswith("ss"):
            stems.add(term[: -len(suffix)] + replacement)
    forms: set[str] = set()
    for stem in stems:
        forms.add(stem)
        if stem.endswith("y") and stem[-2:-1] not in set("aeiou"):
            forms.update({stem[:-1] + "ies", stem[:-1] + "ied"})
        elif stem.endswith(("s", "x", "z", "ch", "sh")):
            forms.add(stem + "es")
        else:
            forms.add(stem + "s")
        if stem.endswith("e"):
            forms.update({stem + "d", stem[:-1] + "ing"})
        else:
            forms.update({stem + "ed", stem + "ing"})
    forms.discard(term)
    return sorted(forms)
