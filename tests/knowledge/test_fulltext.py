"""fulltext.tokens: jieba's search-mode cut, computed piece by piece with a cache."""

from __future__ import annotations

import pytest

from knowledge import fulltext

TEXTS = [
    "How do I reset my password? The committee reviewed the budget in 1999.",
    "我忘记了登录密码，怎么重置？知识库检索系统支持全文检索和向量搜索。",
    "混合 text: PostgreSQL 的向量检索 and 全文检索\twith c++, AT&T, T恤 and B超.",
    "3.5% foo-bar_baz a.b.c user@example.com 1,000,000 (see §4) — done…",
    "line one\r\nline two\u2028third\u00a0fourth\u3000中 文\x1c\x85end",
    "Ünïcödé CAFÉ naïve résumé İstanbul",
    "",
    "   \n\t ",
]


def _whole_text(text: str) -> list[str]:
    """The tokens as jieba cuts the whole text at once (the definition)."""
    words = fulltext._jieba().cut_for_search(text.lower())
    return [w for w in (w.strip() for w in words) if w and not fulltext._PUNCT_ONLY.match(w)]


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_equal_jieba_on_the_whole_text(text: str) -> None:
    fulltext._piece_tokens.cache_clear()
    cold = fulltext.tokens(text)
    assert cold == _whole_text(text)
    assert fulltext.tokens(text) == cold  # from the cache, the same


def test_segment_joins_the_tokens() -> None:
    assert fulltext.segment("Budget  reviewed, 知识库检索!") == " ".join(
        _whole_text("Budget  reviewed, 知识库检索!")
    )
