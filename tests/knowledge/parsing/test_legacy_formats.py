"""Old and open office formats (.doc, .xls, .ppt, .rtf, .odt, .ods, .odp) through LibreOffice.

The legacy files are made here by LibreOffice itself from .docx/.xlsx/.pptx files that
python-docx, openpyxl and python-pptx build, so nothing binary is checked in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import psutil
import pytest

from knowledge.parsing import ParseCancelled, ParseError, parse_document
from knowledge.parsing.convert import OfficeConverter, convert_office
from knowledge.parsing.filetypes import check_content, describe_content, document_type
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import contents

SOFFICE = shutil.which("soffice")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None,
    reason="needs LibreOffice (make office-deps: Debian's libreoffice-*-nogui packages)",
)

SALES = builders.SALES


@pytest.fixture(scope="session")
def legacy_files() -> dict[str, bytes]:
    """Every legacy format, written by LibreOffice from the builders' modern files."""
    if SOFFICE is None:
        pytest.skip("needs LibreOffice")
    return builders.legacy_office_files(SOFFICE)


def parse(data: bytes, filename: str, method: str = "naive", **kwargs: object):
    return parse_document(
        data=data, filename=filename, chunk_method=method, parser_config={}, **kwargs
    )


# --- upload-time checks (no LibreOffice needed) ------------------------------------------


def test_legacy_suffixes_are_accepted_as_documents() -> None:
    for name in ["a.doc", "a.xls", "a.ppt", "a.rtf", "a.odt", "a.ods", "a.odp", "A.DOC"]:
        assert document_type(name) == "doc", name


def test_content_checks_for_legacy_suffixes() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    for name in ["a.doc", "a.xls", "a.ppt"]:
        assert check_content(name, ole) is None
    assert check_content("a.doc", b"{\\rtf1\\ansi hello}") is None  # Word saves RTF as .doc too
    assert check_content("a.rtf", b"{\\rtf1\\ansi hello}") is None
    assert check_content("a.rtf", ole) == (
        "a.rtf is not an RTF document (.rtf) (its content looks like an old binary Office "
        "document (.doc, .xls or .ppt))."
    )
    assert check_content("report.doc", b"just some text") == (
        "report.doc is not a Word 97-2003 document (.doc)."
    )
    assert check_content("sheet.xls", builders.docx_bytes()) == (
        "sheet.xls is not an Excel 97-2003 workbook (.xls) (its content looks like a Word "
        "document)."
    )


@needs_libreoffice
def test_opendocument_files_are_told_apart(legacy_files: dict[str, bytes]) -> None:
    assert describe_content(legacy_files["odt"]) == "an OpenDocument text"
    assert describe_content(legacy_files["ods"]) == "an OpenDocument spreadsheet"
    assert check_content("a.odt", legacy_files["odt"]) is None
    assert check_content("a.ods", legacy_files["ods"]) is None
    assert check_content("a.odp", legacy_files["odp"]) is None
    assert check_content("a.odt", legacy_files["ods"]) == (
        "a.odt is not an OpenDocument text (.odt) (its content looks like an OpenDocument "
        "spreadsheet)."
    )


# --- parsing ----------------------------------------------------------------------------------


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["doc", "rtf", "odt"])
def test_word_processor_files_parse_like_the_docx_they_came_from(
    legacy_files: dict[str, bytes], suffix: str
) -> None:
    messages: list[str] = []
    result = parse(
        legacy_files[suffix],
        f"handbook.{suffix}",
        progress=lambda _fraction, message: messages.append(message),
    )
    text = "\n".join(contents(result))
    for expected in [
        "Employee Handbook",
        "Staff get twenty days of paid leave.",
        "Sick leave needs a note from a doctor after three days.",
        "Annual",
        "员工每年享有二十天带薪年假。",
    ]:
        assert expected in text, (suffix, text)
    assert f"Converting handbook.{suffix} with LibreOffice." in messages


@needs_libreoffice
def test_doc_headings_survive_conversion(legacy_files: dict[str, bytes]) -> None:
    """The book method splits at headings, which the .doc keeps through LibreOffice."""
    from_doc = contents(parse(legacy_files["doc"], "h.doc", "book"))
    from_docx = contents(parse(builders.docx_bytes(), "h.docx", "book"))
    assert from_doc == from_docx


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_spreadsheets_parse_as_tables(legacy_files: dict[str, bytes], suffix: str) -> None:
    result = parse(legacy_files[suffix], f"sales.{suffix}", "table")
    assert contents(result) == contents(parse(builders.xlsx_bytes(SALES), "sales.xlsx", "table"))
    assert any("东部" in chunk for chunk in contents(result))


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["ppt", "odp"])
def test_presentations_parse_per_slide(legacy_files: dict[str, bytes], suffix: str) -> None:
    result = parse(legacy_files[suffix], f"review.{suffix}", "presentation")
    assert result.pages == 3
    text = contents(result)
    assert "Quarterly review" in text[0] and "Revenue grew 12%" in text[0]
    assert "North" in text[1] and "40" in text[1]
    assert "下一步" in text[2]
    assert [chunk.page_numbers for chunk in result.chunks] == [[1], [2], [3]]


@needs_libreoffice
def test_an_rtf_file_named_doc_parses(legacy_files: dict[str, bytes]) -> None:
    text = "\n".join(contents(parse(legacy_files["rtf"], "saved-as-rtf.doc")))
    assert "Staff get twenty days of paid leave." in text


@needs_libreoffice
def test_an_email_attachment_in_a_legacy_format_is_read(legacy_files: dict[str, bytes]) -> None:
    email = builders.eml_bytes(attachment=("numbers.xls", legacy_files["xls"]))
    text = "\n".join(contents(parse(email, "mail.eml", "email")))
    assert "North" in text and "55" in text


# --- failures: a sentence for the user, never a traceback ------------------------------------


@needs_libreoffice
def test_a_damaged_doc_fails_with_libreoffices_reason() -> None:
    damaged = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(6000)
    with pytest.raises(ParseError) as caught:
        parse(damaged, "minutes.doc")
    assert caught.value.message == (
        "LibreOffice could not convert minutes.doc to .docx (LibreOffice said: source file "
        "could not be loaded); the file may be damaged, password-protected or not really this "
        "type of document."
    )


@needs_libreoffice
def test_a_conversion_over_the_timeout_is_stopped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ParseError) as caught:
        parse(
            b"{\\rtf1\\ansi slow}",
            "slow.rtf",
            office=OfficeConverter(binary=SOFFICE or "soffice", timeout=0.1),
        )
    assert caught.value.message == (
        "LibreOffice took longer than 0.1 seconds to convert slow.rtf and was stopped; "
        "the file may be damaged or very large."
    )
    assert not _processes_under(tmp_path)


def test_a_missing_libreoffice_is_a_clear_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "old.xls",
            office=OfficeConverter(binary="/nonexistent/soffice"),
        )
    assert caught.value.message == (
        "old.xls needs LibreOffice to be read, and LibreOffice is not installed on the server "
        "('/nonexistent/soffice' was not found); an administrator can install it with "
        "`make office-deps`."
    )


@needs_libreoffice
def test_cancelling_kills_libreoffice(
    legacy_files: dict[str, bytes], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    started = threading.Event()

    def should_stop() -> bool:
        # True once LibreOffice is running under tmp_path (the parse itself polls first).
        if _processes_under(tmp_path):
            started.set()
        return started.is_set()

    with pytest.raises(ParseCancelled):
        parse(legacy_files["doc"], "handbook.doc", should_stop=should_stop)
    assert started.is_set()
    assert not _processes_under(tmp_path)


@needs_libreoffice
def test_concurrent_conversions_each_get_their_own_profile(
    legacy_files: dict[str, bytes],
) -> None:
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []
    converter = OfficeConverter(binary=SOFFICE or "soffice")

    def convert(suffix: str, target: str) -> None:
        try:
            results[suffix] = convert_office(legacy_files[suffix], f"a.{suffix}", target, converter)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=convert, args=args)
        for args in [("doc", "docx"), ("xls", "xlsx"), ("ppt", "pdf")]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert results["doc"].startswith(b"PK") and results["xls"].startswith(b"PK")
    assert results["ppt"].startswith(b"%PDF")


def _processes_under(folder: Path) -> list[psutil.Process]:
    """Processes whose command line mentions `folder` (LibreOffice's profile is under it)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if any(str(folder) in part for part in cmdline):
            found.append(process)
    return found
