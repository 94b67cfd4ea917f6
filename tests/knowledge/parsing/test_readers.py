"""Each format's reader, seen through naive chunking with a large window."""

from __future__ import annotations

import json
import warnings

import pytest

from knowledge.parsing import ParseError
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import contents, parse


def test_txt_reads_utf8_with_bom_and_collapses_blank_lines() -> None:
    result = parse("\ufeffline one\r\n\r\n\n  \nline two".encode(), "a.txt")
    assert contents(result) == ["line one\nline two"]
    assert result.pages == 1 and result.chunks[0].page_numbers == []


def test_nul_characters_in_extracted_text_are_removed() -> None:
    assert contents(parse(b'{"a": "x\\u0000y"}', "nul.json")) == ["a: xy"]


def test_txt_reads_chinese_in_gb18030_and_utf16() -> None:
    text = "知识库系统支持全文检索。"
    assert contents(parse(text.encode("gb18030"), "zh.txt")) == [text]
    assert contents(parse(text.encode("utf-16"), "zh.txt")) == [text]


def test_code_files_are_read_as_text() -> None:
    assert contents(parse(b"def main():\n    return 1\n", "main.py")) == [
        "def main():\n    return 1"
    ]


def test_markdown_keeps_headings_as_lines_and_code_blocks_whole() -> None:
    md = b"# Setup\n\nInstall it.\n\n```\npip install x\n\nx --help\n```\n\nSetext title\n============\nBody.\n"
    result = parse(md, "readme.md", chunk_token_num=1000)
    assert contents(result) == [
        "Setup\nInstall it.\n```\npip install x\n\nx --help\n```",
        "Setext title\nBody.",
    ]


def test_html_drops_scripts_styles_and_navigation_but_keeps_headings_and_tables() -> None:
    html = """<html><head><title>Page</title><style>p {}</style></head><body>
    <nav>Home | About</nav><h1>Prices</h1><p>All prices<br>include tax.</p>
    <script>alert(1)</script><table><tr><th>Item</th><th>Price</th></tr>
    <tr><td>Tea</td><td>3</td></tr></table><ul><li>Cash</li><li>Card</li></ul></body></html>"""
    [chunk] = contents(parse(html.encode(), "page.html"))
    assert chunk == "Prices\nAll prices\ninclude tax.\nItem: Tea; Price: 3\n- Cash\n- Card"


def test_html_drops_what_only_leads_elsewhere_by_role_and_table_summary() -> None:
    """Sphinx marks its sidebar and link bars with role="navigation"; DocBook summarises its
    Prev / Up / Next tables as navigation. A table with another summary stays."""
    html = """<html><body>
    <div class="related" role="navigation"><ul><li>index</li><li>next</li></ul></div>
    <table summary="Navigation header"><tr><td>Prev</td><td>Up</td><td>Next</td></tr></table>
    <h1>shutil</h1><p>High-level file operations.</p>
    <table summary="Options"><tr><th>Option</th><th>Meaning</th></tr>
    <tr><td>-r</td><td>recursive</td></tr></table>
    <div class="sphinxsidebar" role="Navigation"><h3>Table of Contents</h3><p>Next topic</p></div>
    <div role="search"><p>Quick search</p></div><div role="main"><p>Copies trees.</p></div>
    <div role="navigation doc-toc"><p>Contents</p></div><div role=""><p>Moves files.</p></div>
    </body></html>"""
    [chunk] = contents(parse(html.encode(), "shutil.html"))
    assert (
        chunk
        == "shutil\nHigh-level file operations.\nOption: -r; Meaning: recursive\nCopies trees.\n"
        "Moves files."
    )


def test_html_drops_the_page_footer_but_keeps_an_articles() -> None:
    """A page footer (copyright, licence, "Created using Sphinx") is no content; a <footer>
    inside an article or the main content belongs to it."""
    html = """<html><body>
    <div role="main"><h1>json</h1><p>Encodes objects.</p>
    <div class="footer note"><p>See also pickle.</p></div></div>
    <article><p>Release notes.</p><footer><p>Written by Ann.</p></footer></article>
    <div class="footer"><p>© Copyright 2001-2026. Created using Sphinx 7.2.</p></div>
    <div id="footer"><p>Last updated on Jan 01.</p></div>
    <footer><p>Site footer.</p></footer><div role="contentinfo"><p>Imprint.</p></div>
    <div class="footnote"><p>[1] A footnote stays.</p></div>
    </body></html>"""
    [chunk] = contents(parse(html.encode(), "json.html"))
    assert chunk == (
        "json\nEncodes objects.\nSee also pickle.\nRelease notes.\nWritten by Ann.\n"
        "[1] A footnote stays."
    )


def test_xhtml_is_read_as_html_without_a_warning() -> None:
    """PostgreSQL's pages are XHTML; Beautiful Soup warned on each one (in the worker's log)."""
    xhtml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!DOCTYPE html PUBLIC '
        b'"-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/'
        b'xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><meta '
        b'http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>VACUUM</title>'
        b'<link rel="stylesheet" type="text/css" href="stylesheet.css" /><link rev="made" '
        b'href="pgsql-docs@lists.postgresql.org" /><meta name="generator" content="DocBook XSL '
        b'Stylesheets Vsnapshot" /><link rel="prev" href="sql-update.html" title="UPDATE" />'
        b"</head><body><h1>VACUUM</h1><p>Garbage-collect a database.</p></body></html>"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert contents(parse(xhtml, "sql-vacuum.html")) == ["VACUUM\nGarbage-collect a database."]


def test_html_reads_a_declared_gbk_charset() -> None:
    html = '<html><head><meta charset="gbk"></head><body><p>中文网页</p></body></html>'
    assert contents(parse(html.encode("gbk"), "zh.htm")) == ["中文网页"]


def test_csv_rows_keep_their_headers() -> None:
    result = parse(b"name;city\nAnn;Oslo\nBob;Rome\n", "people.csv")
    assert contents(result) == ["name: Ann; city: Oslo\nname: Bob; city: Rome"]


def test_json_is_flattened_to_paths() -> None:
    data = {"title": "Guide", "meta": {"tags": ["a", "b"], "draft": False}, "parts": [{"n": 1}]}
    [chunk] = contents(parse(json.dumps(data).encode(), "guide.json"))
    assert chunk == "title: Guide\nmeta.tags: a, b\nmeta.draft: false\nparts[0].n: 1"


def test_jsonl_gives_one_line_per_record_and_notes_bad_lines() -> None:
    result = parse(b'{"q": "hi", "n": 1}\n\nnot json\n{"q": "yo"}\n', "log.jsonl")
    assert contents(result) == ["q: hi; n: 1\nq: yo"]
    assert result.notes == ["Skipped 1 line(s) of log.jsonl that are not JSON: 3."]


def test_invalid_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"broken.json is not valid JSON: line 1, column 2"):
        parse(b"{oops}", "broken.json")


def test_docx_keeps_body_order_with_headings_and_tables_as_html() -> None:
    # Headings open chunks, so a window never ends with the next section's title; a table is a
    # chunk of its own in HTML (RAGFlow's convention), where it stands in the body.
    assert contents(parse(builders.docx_bytes(), "handbook.docx", chunk_token_num=1000)) == [
        "Employee Handbook\nChapter 1 Leave\nStaff get twenty days of paid leave.",
        "1.1 Sick leave\nSick leave needs a note from a doctor after three days.",
        "<table><tr><th>Type</th><th>Days</th></tr>"
        "<tr><td>Annual</td><td>20</td></tr><tr><td>Sick</td><td>10</td></tr></table>",
        "Chapter 2 年假\n员工每年享有二十天带薪年假。",
    ]


def test_xlsx_reads_every_sheet_with_headers_and_pages() -> None:
    rows: list[list[object]] = [
        ["Name", "Joined", "Score"],
        ["Ann", "2024-01-05", 3.0],
        ["Bob", None, 4.5],
    ]
    result = parse(builders.xlsx_bytes(rows, sheets=2), "staff.xlsx")
    assert result.pages == 2
    assert contents(result) == [
        "Sheet: Sheet1\nName: Ann; Joined: 2024-01-05; Score: 3\nName: Bob; Score: 4.5",
        "Sheet: Sheet2\nName: Ann; Joined: 2024-01-05; Score: 3\nName: Bob; Score: 4.5",
    ]
    assert [c.page_numbers for c in result.chunks] == [[1], [2]]


def test_xlsx_without_rows_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="The spreadsheet empty.xlsx has no rows."):
        parse(builders.xlsx_bytes([]), "empty.xlsx")


def test_pptx_reads_titles_text_tables_and_notes_per_slide() -> None:
    result = parse(builders.pptx_bytes(), "deck.pptx", chunk_token_num=1000)
    assert result.pages == 3
    assert contents(result) == [
        "Quarterly review\nRevenue grew 12%\nCosts fell 3%",
        "Regions",
        "<table><tr><th>Region</th><th>Sales</th></tr><tr><td>North</td><td>40</td></tr></table>",
        "下一步\nNotes: Mention the hiring plan.",
    ]
    # Shapes' boxes in points from the slide's top-left (the table: 1 in from the left, 2 in
    # from the top, 6 in wide, two rows of half an inch).
    assert result.chunks[2].positions == [(2, 72.0, 504.0, 144.0, 216.0)]
    assert all(position[0] == 1 for position in result.chunks[0].positions)


def test_pdf_text_layer_is_read_page_by_page(cjk_font_available: None) -> None:
    pages = [
        "第一页：知识库系统支持全文检索。",
        "Second page in English.",
        "第三页 PostgreSQL 向量搜索。",
    ]
    result = parse(builders.text_pdf_bytes(pages, cjk=True), "doc.pdf", chunk_token_num=16)
    assert result.pages == 3
    assert [(c.content, c.page_numbers) for c in result.chunks] == [
        ("第一页：知识库系统支持全文检索。", [1]),
        ("Second page in English.\n第三页 PostgreSQL 向量搜索。", [2, 3]),
    ]


def test_pdf_wrapped_lines_are_joined_into_paragraphs() -> None:
    sentence = (
        "This sentence is long enough that the PDF writer has to wrap it onto several lines. "
    )
    result = parse(builders.text_pdf_bytes([sentence * 3 + "\nShort line\nAnother"]), "wrap.pdf")
    assert contents(result) == [(sentence * 3).strip() + "\nShort line\nAnother"]


def test_pdf_pages_setting_restricts_the_pages_read() -> None:
    pdf = builders.text_pdf_bytes([f"Page {n} text." for n in range(1, 6)])
    result = parse(pdf, "five.pdf", pages=[[2, 3], [5, 9]])
    assert contents(result) == ["Page 2 text.\nPage 3 text.\nPage 5 text."]
    assert result.chunks[0].page_numbers == [2, 3, 5]
    assert "Read 3 of 5 pages, as the pages setting asks." in result.notes


def test_pdf_pages_setting_beyond_the_end_is_a_parse_error() -> None:
    with pytest.raises(
        ParseError, match=r"The PDF has 1 page, so none of the requested pages \(4-6\) exist."
    ):
        parse(builders.text_pdf_bytes(["x"]), "one.pdf", pages=[[4, 6]])


def test_eml_reads_headers_body_and_a_text_attachment() -> None:
    eml = builders.eml_bytes(attachment=("figures.txt", b"Revenue was 12 million."))
    message, attachment = contents(parse(eml, "mail.eml", chunk_token_num=1000))
    assert message.startswith(
        "From: Alice <alice@example.com>\nTo: Bob <bob@example.com>\nSubject: Quarterly numbers\n"
    )
    assert "The numbers are attached." in message
    assert attachment == "Attachment: figures.txt\nRevenue was 12 million."


def test_eml_without_a_plain_body_uses_the_html_body() -> None:
    [chunk] = contents(
        parse(builders.eml_bytes(html="<p>Hello <b>there</b></p><script>x()</script>"), "m.eml")
    )
    assert chunk.endswith("Hello there")


def test_eml_attachment_of_an_unknown_type_is_noted_and_skipped() -> None:
    result = parse(builders.eml_bytes(attachment=("tool.exe", b"MZ\x90\x00")), "m.eml")
    assert result.notes == [
        "Skipped the attachment tool.exe: ragsite cannot read this type of file."
    ]
