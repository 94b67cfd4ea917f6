"""A Markdown file's YAML front matter becomes metadata, never a chunk of its own (issue 16)."""

from __future__ import annotations

import pytest

from knowledge.parsing.front_matter import split_front_matter
from tests.knowledge.parsing.conftest import contents, parse

QUICKSTART = (
    b"---\n"
    b"title: Quickstart\n"
    b"date: 2024-05-01\n"
    b"tags: [install, docker]\n"
    b"weight: 3\n"
    b"draft: false\n"
    b"author: {name: Ann, site: example.org}\n"
    b"---\n"
    b"\n"
    b"# Install\n\nRun pip install x.\n\n## Use\n\nCall x.\n"
)


@pytest.mark.parametrize("method", ["naive", "book", "manual", "laws", "paper", "one", "qa"])
def test_front_matter_is_not_chunk_text_with_any_method(method: str) -> None:
    result = parse(QUICKSTART, "quickstart.md", method)
    assert result.chunks
    for text in contents(result):
        assert "title:" not in text and "---" not in text and "weight" not in text
    assert any("Run pip install x." in text for text in contents(result))


def test_front_matter_fields_become_metadata() -> None:
    result = parse(QUICKSTART, "quickstart.md")
    assert result.metadata == {
        "title": "Quickstart",
        "date": "2024-05-01",
        "tags": ["install", "docker"],
        "weight": 3,
        "draft": False,
        "author": '{"name": "Ann", "site": "example.org"}',
    }
    assert contents(result) == ["Install\nRun pip install x.", "Use\nCall x."]
    assert "Front matter kept as metadata: title, date, tags, weight, draft, author." in (
        result.notes
    )


def test_an_empty_front_matter_block_is_dropped_too() -> None:
    result = parse(b"---\n---\nBody text.\n", "a.md")
    assert contents(result) == ["Body text."]
    assert result.metadata == {}


def test_a_file_that_opens_with_a_rule_and_prose_keeps_its_text() -> None:
    # YAML reads this block as a string, not a mapping: it is not front matter.
    md = b"---\nJust a sentence between two rules.\n---\n\nMore text.\n"
    result = parse(md, "rules.md", chunk_token_num=1000)
    assert "Just a sentence between two rules." in contents(result)[0]
    assert result.metadata == {}


def test_plain_text_files_are_not_read_for_front_matter() -> None:
    result = parse(b"---\ntitle: x\n---\nBody.\n", "notes.txt", chunk_token_num=1000)
    assert contents(result) == ["---\ntitle: x\n---\nBody."]
    assert result.metadata == {}


def test_broken_yaml_stays_text() -> None:
    fields, rest = split_front_matter("---\ntitle: [unclosed\n---\nBody.\n")
    assert fields is None and rest.startswith("---\ntitle")


def test_values_json_cannot_hold_become_text() -> None:
    fields, rest = split_front_matter("---\nratio: .nan\nwhen: 2024-05-01 10:30:00\n...\nBody.\n")
    assert fields == {"ratio": "nan", "when": "2024-05-01T10:30:00"}
    assert rest == "Body.\n"


def test_alias_expansion_is_bounded() -> None:
    # Each level refers to the previous one nine times: 9**8 values if expanded.
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        levels.append(f"a{level}: &a{level} [{refs}]")
    text = "---\n" + "\n".join(levels) + "\n---\nBody.\n"
    fields, rest = split_front_matter(text)
    assert fields is None and rest == text
