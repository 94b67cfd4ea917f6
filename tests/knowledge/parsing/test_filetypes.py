"""Upload-time questions: supported suffixes, RAGFlow types, default methods, content checks."""

from __future__ import annotations

import pytest

from knowledge.parsing.filetypes import (
    SUPPORTED_SUFFIXES,
    check_content,
    default_chunk_method,
    document_type,
)
from tests.knowledge.parsing import builders


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.PDF", "pdf"),
        ("scan.jpeg", "visual"),
        ("scan.tiff", "visual"),
        ("notes.docx", "doc"),
        ("main.py", "doc"),
        ("data.jsonl", "doc"),
        ("mail.eml", "doc"),
        ("old.doc", "doc"),
        ("budget.xls", "doc"),
        ("tool.exe", None),
        ("README", None),
    ],
)
def test_document_type_follows_ragflow_types(filename: str, expected: str | None) -> None:
    assert document_type(filename) == expected


def test_supported_suffixes_are_lowercase_without_dots() -> None:
    assert {
        "pdf",
        "docx",
        "xlsx",
        "pptx",
        "md",
        "html",
        "csv",
        "json",
        "eml",
        "png",
    } <= SUPPORTED_SUFFIXES
    assert all(s == s.lower() and not s.startswith(".") for s in SUPPORTED_SUFFIXES)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("photo.png", "picture"),
        ("deck.pptx", "presentation"),
        ("deck.ppt", "presentation"),
        ("mail.eml", "email"),
        ("book.pdf", "laws"),
        ("notes.txt", "laws"),
    ],
)
def test_default_chunk_method_overrides_only_images_slides_and_email(
    filename: str, expected: str
) -> None:
    assert default_chunk_method(filename, "laws") == expected


def test_check_content_accepts_matching_files() -> None:
    assert check_content("a.pdf", builders.text_pdf_bytes(["Hello"])) is None
    assert check_content("a.docx", builders.docx_bytes()) is None
    assert check_content("a.xlsx", builders.xlsx_bytes([["a"], ["b"]])) is None
    assert check_content("a.pptx", builders.pptx_bytes()) is None
    assert check_content("a.png", builders.text_png_bytes(["x"])) is None
    assert check_content("a.txt", "中文文本".encode("gb18030")) is None
    assert check_content("a.txt", "UTF-16 text".encode("utf-16")) is None
    assert check_content("a.eml", builders.eml_bytes()) is None


def test_check_content_accepts_empty_files() -> None:
    assert check_content("a.pdf", b"") is None


def test_check_content_works_on_the_first_kilobytes_only() -> None:
    # Upload checks read 8 KB; a truncated Office file has no central directory.
    assert check_content("a.docx", builders.docx_bytes()[:8192]) is None
    assert check_content("a.txt", "汉字".encode() * 2000 + "尾".encode()[:1]) is None


def test_check_content_names_what_a_mislabelled_file_looks_like() -> None:
    png = builders.text_png_bytes(["x"])
    assert (
        check_content("report.pdf", png)
        == "report.pdf is not a PDF file (its content looks like a PNG image)."
    )
    assert check_content("sheet.xlsx", builders.docx_bytes()) == (
        "sheet.xlsx is not an Excel workbook (.xlsx) (its content looks like a Word document)."
    )
    assert "looks like a PDF file" in str(
        check_content("notes.txt", builders.text_pdf_bytes(["x"]))
    )
    assert check_content("photo.jpg", b"hello") == "photo.jpg is not an image file."


def test_check_content_does_not_mistake_text_for_two_letter_signatures() -> None:
    assert check_content("cars.txt", b"BMW and MZ are brands.") is None


def test_check_content_rejects_binary_text_files() -> None:
    assert (
        check_content("notes.txt", b"abc\x00def")
        == "notes.txt is not a text file (it contains binary data)."
    )
    assert "GB18030" in str(check_content("notes.md", b"\xff\xfa\xfb\x81\x30"))


def test_check_content_rejects_random_bytes_named_docx() -> None:
    message = check_content("report.docx", bytes(range(256)) * 4)
    assert message is not None and message.startswith("report.docx is not a Word document (.docx)")
