"""PDF layout: reading order across columns, running headers dropped, headings, tables as HTML
with their boxes, figure captions, and tables on scanned pages."""

from __future__ import annotations

import re

import pytest

from knowledge.parsing.layout import PageText, Span, drop_running_text
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import contents, parse

MM = builders.MM


def _text(result: object) -> str:
    return "\n".join(contents(result))  # type: ignore[arg-type]


def test_two_columns_are_read_left_then_right_on_every_page() -> None:
    text = _text(parse(builders.two_column_pdf_bytes(), "paper.pdf", chunk_token_num=1024))
    order = []
    for page in (1, 2, 3):
        for side in ("Left", "Right"):
            order += [f"{side} column page {page} begins", f"{side} column page {page} ends"]
    found = [text.index(marker) for marker in order]
    assert found == sorted(found)
    # No line of one column is glued to a line of the other.
    assert "mix. Right" not in text.replace("\n", " ").split("Left column page 1 ends")[0]


def test_running_headers_and_page_numbers_are_left_out() -> None:
    result = parse(builders.two_column_pdf_bytes(), "paper.pdf")
    text = _text(result)
    assert "Journal of Layout Studies" not in text
    assert not any(re.fullmatch(r"\d", line.strip()) for line in text.split("\n"))
    assert "Left out 6 running header, footer and page number line(s)." in result.notes


def test_running_text_needs_other_text_on_the_page_to_go() -> None:
    pages = [
        PageText(n, 600, 800, [Span(f"Page {n} text.", 50, 150, 20, 30, 10)]) for n in (1, 2, 3)
    ]
    assert drop_running_text(pages) == 0
    for page in pages:
        page.spans.append(Span("Body text in the middle of the page.", 50, 400, 300, 312, 10))
    assert drop_running_text(pages) == 3
    assert [s.text for p in pages for s in p.spans] == ["Body text in the middle of the page."] * 3


def test_headings_by_font_size_give_book_its_section_paths() -> None:
    result = parse(builders.two_column_pdf_bytes(), "paper.pdf", "book")
    first = result.chunks[0].content
    assert first.startswith("A Study of Two Columns > 1. Section on page 1\nLeft column page 1")
    assert any(
        c.content.startswith("2. Section on page 2\nLeft column page 2") for c in result.chunks
    )


def test_a_ruled_table_is_one_html_chunk_with_its_caption_and_box() -> None:
    result = parse(builders.two_column_pdf_bytes(), "paper.pdf")
    tables = [c for c in result.chunks if c.content.startswith("<table>")]
    assert [c.content for c in tables] == [
        "<table><caption>Table 1: Accuracy and latency of the three models.</caption>"
        "<tr><th>Model</th><th>Accuracy</th><th>Latency</th></tr>"
        "<tr><td>Alpha</td><td>91.2</td><td>12 ms</td></tr>"
        "<tr><td>Beta</td><td>88.7</td><td>8 ms</td></tr>"
        "<tr><td>Gamma</td><td>93.5</td><td>30 ms</td></tr></table>"
    ]
    assert tables[0].page_numbers == [2]
    [(page, *box)] = tables[0].positions
    assert page == 2
    # The box is the drawn frame of the table (its cell borders), not just the cells' text.
    frame = [v * MM for v in builders.TABLE_BOX_MM]
    assert all(abs(a - b) < 1 for a, b in zip(box, frame, strict=True)), box
    # The caption is the table's name, not a paragraph of its own.
    assert "Table 1: Accuracy" not in _text(result).replace(tables[0].content, "")


def test_table_method_reads_pdf_tables_row_by_row_with_row_boxes() -> None:
    result = parse(builders.two_column_pdf_bytes(), "paper.pdf", "table")
    assert contents(result) == [
        "Model: Alpha; Accuracy: 91.2; Latency: 12 ms",
        "Model: Beta; Accuracy: 88.7; Latency: 8 ms",
        "Model: Gamma; Accuracy: 93.5; Latency: 30 ms",
    ]
    tops = [chunk.positions[0][3] for chunk in result.chunks]
    assert all(chunk.positions[0][0] == 2 for chunk in result.chunks)
    assert tops == sorted(tops) and tops[1] - tops[0] == pytest.approx(7 * MM, abs=1.5)


def test_a_long_table_is_split_by_rows_with_the_header_repeated() -> None:
    pdf = builders.two_column_pdf_bytes(table_rows=12)
    result = parse(pdf, "long.pdf", chunk_token_num=60)
    tables = [c for c in result.chunks if c.content.startswith("<table>")]
    assert len(tables) >= 3
    header = "<tr><th>Model</th><th>Accuracy</th><th>Latency</th></tr>"
    assert all(header in c.content for c in tables)
    cells = re.findall(r"<td>(Extra \d+|Alpha|Beta|Gamma)</td>", "".join(c.content for c in tables))
    assert cells == ["Alpha", "Beta", "Gamma"] + [f"Extra {n}" for n in range(1, 13)]
    # Each piece points at the header row and at its own rows, which follow each other down
    # the page.
    header_boxes = {c.positions[0] for c in tables[1:]}
    assert len(header_boxes) == 1 and len(tables[0].positions) == 1
    assert tables[0].positions[0][3] == next(iter(header_boxes))[3]
    tops = [c.positions[-1][3] for c in tables]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    assert tables[-1].positions[-1][4] == pytest.approx(
        (builders.TABLE_BOX_MM[2] + 7 * 16) * MM, abs=7 * MM
    )


def test_a_figure_caption_points_at_the_figure_too() -> None:
    result = parse(builders.two_column_pdf_bytes(), "paper.pdf", chunk_token_num=1024)
    [chunk] = [c for c in result.chunks if "Figure 1: A blue rectangle" in c.content]
    figure = (3, 60 * MM, 150 * MM, 170 * MM, 215 * MM)
    assert any(
        all(abs(a - b) < 1 for a, b in zip(position, figure, strict=True))
        for position in chunk.positions
    )


def test_every_pdf_chunk_has_boxes_on_its_pages() -> None:
    for method in ("naive", "book", "paper", "manual", "laws", "presentation", "one"):
        result = parse(builders.two_column_pdf_bytes(), "paper.pdf", method)
        for chunk in result.chunks:
            assert chunk.positions, (method, chunk.content[:40])
            assert {p[0] for p in chunk.positions} <= set(chunk.page_numbers)
            for _, x0, x1, top, bottom in chunk.positions:
                assert 0 <= x0 < x1 <= 595.3 and 0 <= top < bottom <= 841.9


def test_a_table_on_a_scanned_page_is_read_as_a_table() -> None:
    rows = [
        ["City", "Population", "Country"],
        ["Oslo", "709000", "Norway"],
        ["Lyon", "522000", "France"],
        ["Porto", "232000", "Portugal"],
    ]
    result = parse(builders.scanned_table_pdf_bytes(rows), "scan.pdf")
    assert "Page 1 has no text layer; read with OCR." in result.notes
    [chunk] = result.chunks
    assert chunk.content == (
        "<table><tr><th>City</th><th>Population</th><th>Country</th></tr>"
        + "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows[1:])
        + "</table>"
    )
    [(page, x0, _x1, top, _bottom)] = chunk.positions
    # The picture is placed 10 mm from the left and 20 mm from the top of the page.
    assert page == 1 and 10 * MM <= x0 < 20 * MM and 20 * MM <= top < 30 * MM


def test_table_chunks_are_searched_and_embedded_as_cell_text() -> None:
    from knowledge.parsing.text import searchable_text

    html = (
        "<table><caption>Table 1: Fish &amp; chips</caption><tr><th>Dish</th><th>Price</th></tr>"
        "<tr><td>Cod</td><td>12</td></tr></table>"
    )
    assert searchable_text(html) == "Table 1: Fish & chips\nDish | Price\nCod | 12"
    assert searchable_text("plain <b>text</b>") == "plain <b>text</b>"


def test_the_built_in_answerer_reads_html_table_chunks_as_tables() -> None:
    from knowledge.parsing.text import markdown_tables

    html = (
        "<table><caption>Table 1: Fish &amp; chips</caption><tr><th>Dish</th><th>Price</th></tr>"
        "<tr><td>Cod</td><td>12</td></tr><tr><td>Plaice</td><td>14</td></tr></table>"
    )
    assert markdown_tables(html) == (
        "Table 1: Fish & chips\n| Dish | Price |\n| --- | --- |\n| Cod | 12 |\n| Plaice | 14 |"
    )


def _captioned_wide_table_pdf() -> bytes:
    """Like asmeconf's Table 3: a caption line centred over six narrow, unruled columns of
    numbers, wide enough to bridge the gaps between the middle columns, then a paragraph."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.set_xy(20, 20)
    pdf.cell(170, 5, "Table 3: Error function values for twelve arguments", align="C")
    xs = (25, 52, 79, 106, 133, 160)
    rows = [("x", "erf(x)", "erfc(x)", "x", "erf(x)", "erfc(x)")] + [
        (f"{a:.2f}", f"{0.1 * a:.5f}", f"{1 - 0.1 * a:.5f}", f"{a + 1:.2f}", "0.88021", "0.11980")
        for a in (0.0, 0.05, 0.1, 0.15, 0.2)
    ]
    for index, row in enumerate(rows):
        for x, value in zip(xs, row, strict=True):
            pdf.set_xy(x, 30 + 6 * index)
            pdf.cell(20, 5, value)
    pdf.set_xy(20, 80)
    pdf.multi_cell(170, 5, "The values were computed with the series expansion. " * 4)
    return bytes(pdf.output())


def test_a_caption_over_a_wide_table_names_it_and_does_not_merge_its_columns() -> None:
    result = parse(_captioned_wide_table_pdf(), "erf.pdf")
    [table] = [c for c in result.chunks if c.content.startswith("<table>")]
    assert table.content.startswith(
        "<table><caption>Table 3: Error function values for twelve arguments</caption>"
        "<tr><th>x</th><th>erf(x)</th><th>erfc(x)</th><th>x</th><th>erf(x)</th><th>erfc(x)</th>"
        "</tr><tr><td>0.00</td><td>0.00000</td><td>1.00000</td><td>1.00</td><td>0.88021</td>"
        "<td>0.11980</td></tr>"
    ), table.content
    assert table.content.count("<tr>") == 6
    # The caption is the table's name only; its box is the table's, below the caption line.
    text = _text(result)
    assert "Table 3: Error" not in text.replace(table.content, "")
    [(page, _x0, _x1, top, _bottom)] = table.positions
    assert page == 1 and top >= 29 * MM
