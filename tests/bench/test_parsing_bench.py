"""bench/parsing: its expectations cover its corpus, and its scoring counts what it says."""

from __future__ import annotations

import json

from bench.parsing.corpus import SOURCES
from bench.parsing.run import EXPECTATIONS, score
from knowledge.parsing.types import ChunkDraft


def test_every_pdf_of_the_corpus_has_expectations() -> None:
    expectations = json.loads(EXPECTATIONS.read_text())
    assert {s.name for s in SOURCES} == {k for k in expectations if not k.startswith("_")}
    assert (
        sum(
            len(t["cells"])
            for e in expectations.values()
            if isinstance(e, dict)
            for t in e["tables"]
        )
        == 59
    )


def test_score_counts_cells_order_running_text_and_positions() -> None:
    chunks = [
        ChunkDraft("Intro first.\nSecond part.\n7", [1], [(1, 1.0, 2.0, 3.0, 4.0)]),
        ChunkDraft(
            "<table><tr><th>A<sup></sup></th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>",
            [2],
        ),
        ChunkDraft("Journal header", [2]),
    ]
    expected = {
        "tables": [{"page": 2, "cells": ["A", "B", "1", "3"]}],
        "order": [["Intro first.", "Second part."], ["Second part.", "Intro first."]],
        "absent": [{"text": "Journal header", "max": 0}, {"text": "Nowhere", "max": 0}],
    }
    result = score("x.pdf", chunks, expected)
    assert result["table_cells"] == [3, 4]
    assert result["order_pairs"] == [1, 2]
    assert result["running_text_gone"] == [1, 2]
    assert result["page_number_lines"] == 1
    assert result["chunks_with_positions"] == 1 and result["html_tables"] == 1
