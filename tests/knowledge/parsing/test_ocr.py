"""OCR through RapidOCR: a scanned PDF page and a picture (slow: loads the ONNX models)."""

from __future__ import annotations

import pytest

from knowledge.parsing import ParseError
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import parse

pytestmark = pytest.mark.slow


def test_pdf_page_without_a_text_layer_is_read_with_ocr() -> None:
    pdf = builders.scanned_pdf_bytes(
        "The first page has real text.", ["Invoice number 4521", "Total due 300 EUR"]
    )
    result = parse(pdf, "scan.pdf", "presentation", layout_recognize="Plain Text")
    assert result.pages == 2
    first, second = result.chunks
    assert (first.content, first.page_numbers) == ("The first page has real text.", [1])
    assert second.page_numbers == [2]
    assert "Invoice number 4521" in second.content and "300 EUR" in second.content
    assert result.notes == ["Page 2 has no text layer; read with OCR."]


def test_picture_reads_the_text_in_an_image() -> None:
    png = builders.text_png_bytes(["Quarterly review", "Revenue grew 12%"])
    result = parse(png, "slide.png", "picture")
    [chunk] = result.chunks
    assert chunk.content.split("\n") == ["Quarterly review", "Revenue grew 12%"]
    assert chunk.page_numbers == [] and result.pages == 1


def test_image_without_text_is_a_parse_error() -> None:
    blank = builders.text_png_bytes([])
    with pytest.raises(ParseError, match="^No text was found in the image.$"):
        parse(blank, "blank.png", "picture")
