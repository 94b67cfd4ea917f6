"""count_tokens: an offline approximation of RAGFlow's tiktoken counts."""

from __future__ import annotations

from knowledge.parsing import count_tokens
from knowledge.parsing.tokens import split_by_tokens


def test_count_tokens_counts_english_words_and_punctuation() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("PostgreSQL 18 supports pgvector.") == 5


def test_count_tokens_counts_each_chinese_character() -> None:
    assert count_tokens("知识库检索") == 5
    assert count_tokens("我们的知识库支持PostgreSQL。") == 10


def test_count_tokens_ignores_whitespace() -> None:
    assert count_tokens("") == 0
    assert count_tokens("  \n\t ") == 0


def test_split_by_tokens_keeps_pieces_within_the_limit_and_the_text_intact() -> None:
    text = "one two three four five six seven"
    pieces = split_by_tokens(text, 3)
    assert [count_tokens(p) for p in pieces] == [3, 3, 1]
    assert "".join(pieces) == text
