"""render_markdown: Markdown rendered, raw HTML sanitized, links made safe, citations and search
terms added to the text only."""

from __future__ import annotations

import re

import pytest

from ragsite.markdown import Cite, circled, render_markdown

MARKER = re.compile(r"\[ID:(\d+)\]")


def cites(*keys: str) -> dict[str, Cite]:
    return {
        key: Cite(number=n, controls=f"m-cite-{key}", label=f"Source {n}")
        for n, key in enumerate(keys, start=1)
    }


def test_markdown_keeps_lists_tables_code_quotes_and_emphasis() -> None:
    html = render_markdown(
        "Needs:\n- **CPU** 2 cores\n- RAM &ge; 4 GB\n\n"
        "| part | size |\n|---|--:|\n| disk | 50 GB |\n\n"
        "> quoted\n\n```sh\necho '<b>'\n```\n"
    )
    assert "<ul>\n<li><strong>CPU</strong> 2 cores</li>\n<li>RAM ≥ 4 GB</li>\n</ul>" in html
    assert "<th>part</th>" in html and '<td style="text-align:right">50 GB</td>' in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<pre><code>echo '&lt;b&gt;'\n</code></pre>" in html
    assert "**" not in html and "&ge;" not in html


def test_a_single_newline_is_a_line_break() -> None:
    assert render_markdown("one\ntwo") == "<p>one<br>\ntwo</p>"


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>hi",
        '<img src="x" onerror="alert(1)">hi',
        '<a href="javascript:alert(1)">hi</a>',
        "[hi](javascript:alert(1))",
        '<p onclick="alert(1)" style="color:red">hi</p>',
        "<iframe src='https://evil.example'></iframe>hi",
        '<svg onload="alert(1)"></svg>hi',
    ],
)
def test_nothing_that_runs_gets_through(source: str) -> None:
    html = render_markdown(source)
    for bad in ("<script", "onerror", "onclick", 'href="javascript', "<iframe", "<svg", "style="):
        assert bad not in html
    assert "hi" in html


def test_links_are_http_https_or_mailto_and_open_safely() -> None:
    html = render_markdown(
        "[docs](https://example.com/a?b=1) <a href='http://e.example'>raw</a> "
        "[mail](mailto:a@example.com) [local](docs/install.md) [ftp](ftp://x.example/f)"
    )
    rel = 'target="_blank" rel="noopener noreferrer nofollow"'
    assert f'<a href="https://example.com/a?b=1" {rel}>docs</a>' in html
    assert f'<a href="http://e.example" {rel}>raw</a>' in html
    assert f'<a href="mailto:a@example.com" {rel}>mail</a>' in html
    # A relative or other-scheme link keeps its text, not its address.
    assert "docs/install.md" not in html and "ftp://" not in html
    assert ">local</a>" in html and ">ftp</a>" in html


def test_images_show_as_links_not_pictures() -> None:
    html = render_markdown("![chart](https://example.com/c.png)")
    assert "<img" not in html and 'href="https://example.com/c.png"' in html


def test_markers_become_circled_buttons_hugging_the_word_before() -> None:
    html = render_markdown(
        "Walruses: 4312 [ID:2]. Seals [ID:0][ID:2] too [ID:7].",
        markers=MARKER,
        cites=cites("2", "0"),
    )
    assert (
        '<span class="cite-hug">4312<sup class="cite"><button type="button" class="cite__button"'
        ' aria-expanded="false" aria-controls="m-cite-2" aria-label="Source 1" data-cite="1">①'
        "</button></sup></span>."
    ) in html
    assert re.search(
        r'<span class="cite-hug">Seals<sup.*?>②</button></sup><sup.*?>①</button>', html
    )
    assert "[ID:" not in html and "too." in html  # a marker without its chunk goes


def test_markers_in_markup_still_work_and_forged_placeholders_are_removed() -> None:
    html = render_markdown(
        "- **bold** [ID:0]\n- \ue0000\ue001 forged", markers=MARKER, cites=cites("0")
    )
    assert html.count("cite__button") == 1 and "\ue000" not in html and "\ue001" not in html


def test_a_marker_inside_an_attribute_never_becomes_markup() -> None:
    html = render_markdown(
        '<a href="https://e.example/[ID:0]" title="[ID:0]">x</a>', markers=MARKER, cites=cites("0")
    )
    assert "cite__button" not in html and html.count("<a ") == 1


def test_search_terms_are_marked_in_text_only() -> None:
    html = render_markdown(
        "The **walrus** [count](https://walrus.example) &amp; AT&T, walruses",
        marks=["walrus", "amp"],
    )
    assert "<strong><mark>walrus</mark></strong>" in html
    assert 'href="https://walrus.example"' in html  # not inside the tag
    assert "&amp;" in html and "<mark>amp</mark>" not in html  # not inside an entity
    assert "walruses" in html and "<mark>walrus</mark>es" not in html  # whole words


def test_circled_numbers() -> None:
    assert [circled(n) for n in (1, 2, 20, 21, 35, 36, 50, 51)] == [
        "①", "②", "⑳", "㉑", "㉟", "㊱", "㊿", "51",
    ]  # fmt: skip
