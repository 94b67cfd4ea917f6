"""parse_document as the worker sees it: notes, errors, cancellation and progress."""

from __future__ import annotations

import pytest

from knowledge.parser_config import default_parser_config
from knowledge.parsing import ParseCancelled, ParseError, parse_document
from knowledge.parsing import context as parsing_context
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import parse

# --- notes for options ragsite cannot apply -----------------------------------------------


def test_ragflows_default_naive_config_is_reported_not_ignored() -> None:
    result = parse_document(
        data=builders.text_pdf_bytes(["Hello."]),
        filename="a.pdf",
        chunk_method="naive",
        parser_config=default_parser_config("naive"),
    )
    assert result.notes == [
        "layout_recognize 'DeepDOC' is not available in ragsite; used the PDF text layer (and OCR for pages without one).",
        "Knowledge graph extraction (GraphRAG) was requested but needs a chat model; not applied.",
    ]


@pytest.mark.parametrize("layout", ["Plain Text", "Naive", ""])
def test_plain_layouts_need_no_note(layout: str) -> None:
    assert parse(builders.text_pdf_bytes(["Hello."]), "a.pdf", layout_recognize=layout).notes == []


def test_layout_recognize_is_only_mentioned_for_pdfs() -> None:
    assert parse(b"Hello.", "a.txt", layout_recognize="DeepDOC").notes == []


def test_auto_keywords_and_questions_are_left_to_the_enrichment_step() -> None:
    # knowledge.enrichment.keywords asks the chat model, or says what to configure
    # (tests/knowledge/enrichment/test_auto_keywords.py).
    result = parse(b"Hello.", "a.txt", auto_keywords=3, auto_questions=1)
    assert result.notes == []
    assert result.chunks[0].important_keywords == [] and result.chunks[0].questions == []


def test_html4excel_renders_spreadsheet_rows_as_html_tables() -> None:
    rows = [["Name", "City"], ["Ann", "Oslo"], ["Bob", "Rome"]]
    result = parse(builders.xlsx_bytes(rows), "people.xlsx", html4excel=True)
    assert [c.content for c in result.chunks] == [
        "<table><caption>Sheet1</caption><tr><th>Name</th><th>City</th></tr>"
        "<tr><td>Ann</td><td>Oslo</td></tr><tr><td>Bob</td><td>Rome</td></tr></table>"
    ]
    assert result.notes == []


def test_html4excel_on_other_files_is_reported() -> None:
    result = parse(b"Hello.", "a.txt", html4excel=True)
    assert result.notes == [
        "html4excel only applies to spreadsheets chunked with the naive method; not applied."
    ]


def test_pages_on_a_non_pdf_is_reported() -> None:
    result = parse(b"Hello.", "a.txt", pages=[[1, 2]])
    assert result.notes == ["The pages setting only applies to PDF files; read the whole document."]


def test_invalid_chunk_token_num_falls_back_to_the_default_with_a_note() -> None:
    result = parse(b"Hello.", "a.txt", chunk_token_num="big")
    assert result.notes == ["chunk_token_num 'big' is not a positive whole number; used 512."]


def test_unknown_parser_config_keys_are_ignored() -> None:
    assert parse(b"Hello.", "a.txt", something_new=True, task_page_size=12).notes == []


# --- bad files --------------------------------------------------------------------------


def test_empty_file_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="^The file is empty.$"):
        parse(b"", "a.pdf")


def test_corrupt_pdf_is_a_parse_error() -> None:
    with pytest.raises(
        ParseError, match="^The PDF file is damaged and could not be read: data format error.$"
    ):
        parse(b"%PDF-1.7\nthis is not really a PDF", "broken.pdf")


def test_truncated_pdf_is_a_parse_error() -> None:
    pdf = builders.text_pdf_bytes(["Some text."])
    with pytest.raises(ParseError, match="^The PDF file is damaged"):
        parse(pdf[: len(pdf) // 3], "cut.pdf")


def test_encrypted_pdf_asks_for_the_password_to_be_removed() -> None:
    with pytest.raises(ParseError) as caught:
        parse(builders.encrypted_pdf_bytes(), "secret.pdf")
    assert (
        caught.value.message
        == "The PDF is password-protected; remove the password and upload it again."
    )


def test_png_named_pdf_fails_with_the_content_check_message() -> None:
    with pytest.raises(ParseError) as caught:
        parse(builders.text_png_bytes(["x"]), "report.pdf")
    assert (
        caught.value.message == "report.pdf is not a PDF file (its content looks like a PNG image)."
    )


def test_random_bytes_named_docx_are_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"^report.docx is not a Word document \(.docx\)"):
        parse(b"\x13\x37" * 500, "report.docx")


def test_zip_named_docx_without_word_content_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="its content looks like a ZIP archive"):
        parse(_zip_with("hello.txt"), "report.docx")


def test_unsupported_suffix_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="ragsite cannot parse tool.exe"):
        parse(b"MZ", "tool.exe")


def test_document_without_text_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="^No text could be extracted from blank.md.$"):
        parse(b"\n\n   \n", "blank.md")


# --- cancellation and progress ------------------------------------------------------------


def test_should_stop_cancels_the_parse() -> None:
    with pytest.raises(ParseCancelled):
        parse_document(
            data=b"Hello.",
            filename="a.txt",
            chunk_method="naive",
            parser_config={},
            should_stop=lambda: True,
        )


def test_should_stop_is_polled_between_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing_context, "STOP_POLL_SECONDS", 0.0)
    calls: list[int] = []

    def stop_on_third_page() -> bool:
        calls.append(1)
        return len(calls) >= 4  # the first poll happens before reading starts

    pdf = builders.text_pdf_bytes([f"Page {n}." for n in range(1, 11)])
    with pytest.raises(ParseCancelled):
        parse_document(
            data=pdf,
            filename="a.pdf",
            chunk_method="naive",
            parser_config={},
            should_stop=stop_on_third_page,
        )
    assert len(calls) == 4


def test_progress_is_reported_with_increasing_fractions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing_context, "PROGRESS_INTERVAL_SECONDS", 0.0)
    reports: list[tuple[float, str]] = []
    pdf = builders.text_pdf_bytes([f"Page {n}." for n in range(1, 6)])
    parse_document(
        data=pdf,
        filename="a.pdf",
        chunk_method="naive",
        parser_config={},
        progress=lambda f, m: reports.append((f, m)),
    )
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    messages = [message for _, message in reports]
    assert (
        messages[0] == "Reading a.pdf."
        and "Reading page 3/5." in messages
        and "Chunking." in messages
    )


def _zip_with(name: str) -> bytes:
    """A ZIP archive holding one small file."""
    import zipfile
    from io import BytesIO

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "hello")
    return buffer.getvalue()
