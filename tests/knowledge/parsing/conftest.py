"""Helpers for parsing tests: a one-call parse and the text of its chunks."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.parsing import ParseResult, parse_document


def parse(data: bytes, filename: str, method: str = "naive", **config: Any) -> ParseResult:
    """parse_document with keyword parser_config values."""
    return parse_document(data=data, filename=filename, chunk_method=method, parser_config=config)


def contents(result: ParseResult) -> list[str]:
    """The text of every chunk, in order."""
    return [chunk.content for chunk in result.chunks]


@pytest.fixture
def cjk_font_available() -> None:
    """Skip when the WenQuanYi font that fpdf2 needs for CJK PDFs is missing."""
    from tests.knowledge.parsing.builders import CJK_FONT

    if not CJK_FONT.exists():
        pytest.skip("no CJK font for generating PDFs")
