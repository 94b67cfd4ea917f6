"""Markdown readers keep the words of raw HTML and badges, not the markup (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.parsing.inline_html import strip_markup
from knowledge.parsing.readers.md import read_markdown
from tests.knowledge.parsing.conftest import contents, parse

README = (Path(__file__).parent / "readme_with_html.md").read_bytes()


def test_a_realistic_readme_loses_its_markup_but_keeps_alt_and_link_text() -> None:
    extracted = read_markdown(README, "README.md")
    blocks = [(block.text, block.heading) for block in extracted.blocks]
    assert blocks == [
        ("build\nPyPI version\nLicense: MIT", None),
        ("Acme Vector logo", None),
        ("Acme Vector", 1),
        ("A fast vector store & search engine.\nRead the docs · Join the chat", None),
        ("Install", 2),
        (
            "Run `pip install acme-vector` and see [the guide](https://acme.dev/guide).\n"
            "Types like `Vec<u8>` and `<div>` in code spans stay; so does a Ctrl+C press.",
            None,
        ),
        ('```html\n<div align="center"><img src="x.png" alt="code"></div>\n```', None),
        (
            "| Feature | Status |\n|---------|--------|\n| HNSW index | yes |\n| `<b>` tags | ✓ done |",
            None,
        ),
        ("Advanced options", None),
        ("Set `ACME_THREADS=4`.", None),
    ]
    assert extracted.tables[0].rows == [
        ["Feature", "Status"],
        ["HNSW index", "yes"],
        ["`<b>` tags", "✓ done"],
    ]
    assert extracted.metadata == {"title": "Acme Vector", "tags": ["search", "rag"]}


def test_no_chunk_of_the_readme_holds_tags_badge_urls_or_comments() -> None:
    result = parse(README, "README.md", chunk_token_num=64)
    text = "\n".join(contents(result))
    code = re.compile(r"```.*?```|`[^`]*`", re.S)  # code keeps its markup on purpose
    prose = code.sub("", text)
    for leftover in ("<div", "<img", "<a ", "<p", "</", "shields.io", "badge.svg", "<!--",
                     "keep this hidden", "&amp;", "&middot;", "&#10003;"):  # fmt: skip
        assert leftover not in prose, leftover
    assert '```html\n<div align="center"><img src="x.png" alt="code"></div>\n```' in text
    assert result.metadata["title"] == "Acme Vector"


def test_html_alt_text_and_link_text_survive_in_any_quoting() -> None:
    assert strip_markup("<img src=a.png alt=Logo> <img alt='Team photo' src=\"b.png\">") == (
        "Logo Team photo"
    )
    assert strip_markup('Go <a href="https://x.org/?a=1&amp;b=2" title="x > y">home</a>.') == (
        "Go home."
    )
    assert strip_markup("[![Coverage][cov-badge]][cov-link] tested") == "Coverage tested"


def test_text_that_only_looks_like_markup_is_left_alone() -> None:
    for text in (
        "Open <https://example.com> or mail <team@example.com>.",
        "If a < b and b > c then a < c.",
        "A plain [link](https://example.com/path_(x)) stays a link.",
        "R&D costs 5 & more",
    ):
        assert strip_markup(text) == text


def test_entities_outside_code_are_decoded_and_escaped_tags_stay_as_text() -> None:
    md = b"Use &lt;div&gt; for layout &ndash; or `&lt;span&gt;`.\n"
    assert contents(parse(md, "a.md")) == ["Use <div> for layout \u2013 or `&lt;span&gt;`."]


def test_a_markup_only_heading_or_paragraph_leaves_no_empty_block() -> None:
    md = b'# <img src="logo.svg">\n\n<p align="center">\n</p>\n\nBody text.\n'
    extracted = read_markdown(md, "a.md")
    assert [(b.text, b.heading) for b in extracted.blocks] == [("Body text.", None)]
