"""A textbook BM25 reference: jieba tokens, stop words, k1 1.2, b 0.75, IDF log(1 + (N-df+.5)/(df+.5)).

Used by run.py over the very chunks the server made of the corpus, as the bar the keyword leg
of POST /api/v1/retrieval should clear. Nothing here is tuned to the questions.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections import Counter

import jieba

jieba.setLogLevel(logging.WARNING)

_EN = """
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each either else etc even ever every few for from further get gets got had
hadn't has hasn't have haven't having he her here hers herself him himself his how however i if
in into is isn't it it's its itself just least less let like may me might more most much must
my myself need no nor not now of off often on once one only or other others ought our ours
ourselves out over own per rather same shall she should shouldn't since so some such than that
that's the their theirs them themselves then there there's these they this those though through
thus to too under until up upon us very via was wasn't we were weren't what what's when where
whether which while who whom whose why will with within without won't would wouldn't yet you
your yours yourself yourselves
"""
_ZH = """
的 了 和 与 及 或 是 在 我 我们 你 你们 他 她 它 他们 这 那 这个 那个 这些 那些 这样 那样 之 其 中 上 下
里 把 被 让 给 对 向 从 到 由 于 以 为 为了 因为 所以 如果 但 但是 而 而且 并 并且 也 还 都 就 才 又 再
只 很 更 最 太 已 已经 将 会 能 能否 可以 可 要 需要 应该 该 吗 呢 吧 啊 呀 么 嘛 着 过 地 得 所 等 个
怎么 怎样 怎么样 如何 什么 为什么 哪 哪个 哪些 多少 几 是否 有没有 一 一个 一些 每 各 某 某个 没有 不
有 时 时候 后 之后 前 之前 什么样 自己 进行 使用 用 通过 关于
"""
STOP_EN = frozenset(_EN.split())
STOP_ZH = frozenset(_ZH.split())
STOP_WORDS = STOP_EN | STOP_ZH


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PSZC"


def tokens(text: str) -> list[str]:
    """jieba search-mode tokens, lower-cased, punctuation stripped, stop words dropped."""
    out = []
    for raw in jieba.cut_for_search(text.lower()):
        tok = raw.strip("".join(ch for ch in set(raw) if _is_punct(ch)))
        if tok and tok not in STOP_WORDS and not all(_is_punct(ch) for ch in tok):
            out.append(tok)
    return out


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        docs = [tokens(t) for t in texts]
        self.k1, self.b = k1, b
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / max(1, len(docs))
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings.setdefault(term, []).append((i, tf))
        n = len(docs)
        self.idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()
        }

    def rank(self, query: str) -> list[int]:
        """Indexes of the texts that share a term with the query, best first."""
        scores: dict[int, float] = {}
        for term in dict.fromkeys(tokens(query)):
            for i, tf in self.postings.get(term, ()):
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
                scores[i] = scores.get(i, 0.0) + self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return sorted(scores, key=lambda i: (-scores[i], i))
