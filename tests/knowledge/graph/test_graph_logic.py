"""The knowledge graph's pure parts: parsing extraction answers, merging, resolution,
communities and the knowledge-graph chunk's text (no database, no model service)."""

from __future__ import annotations

import json

from knowledge.graph import communities, resolution
from knowledge.graph.context import CommunityLine, EntityLine, RelationLine, kg_text
from knowledge.graph.extraction import Entity, Relation, merge, parse_extraction
from knowledge.graph.prompts import community_prompt, extraction_prompt, resolution_prompt
from tests.graph_llm import answer_community, answer_extraction, answer_resolution

TYPES = ["organization", "person", "geo", "event", "category"]


def extract(text: str, chunk_id: str, method: str = "light"):
    prompt = extraction_prompt(text, method=method, entity_types=TYPES)
    return parse_extraction(answer_extraction(prompt, []), chunk_id=chunk_id, entity_types=TYPES)


def test_it_parses_both_record_flavours() -> None:
    answer = (
        '("entity"<|>"Ada Lovelace"<|>PERSON<|>A mathematician.)##'
        '("entity"<|>ENGINE<|>technology<|>A machine.)##'
        '("entity"<|>charles babbage<|>person<|>An inventor &amp; engineer.)##'
        '("relationship"<|>CHARLES BABBAGE<|>ADA LOVELACE<|>Worked together.<|>work, math<|>8)##'
        '("relationship"<|>ADA LOVELACE<|>ENGINE<|>Wrote about it.<|>3)##'
        '("relationship"<|>ADA LOVELACE<|>CHARLES BABBAGE<|>Friends.<|>2)<|COMPLETE|>'
    )
    found = parse_extraction(answer, chunk_id="c1", entity_types=TYPES)
    assert [(e.name, e.type) for e in found.entities] == [
        ("ADA LOVELACE", "person"),
        ("CHARLES BABBAGE", "person"),
    ]  # ENGINE's type is not one of the dataset's
    assert found.entities[1].description == "An inventor & engineer."
    # Undirected, sorted ends; the relation to the dropped entity is gone.
    assert [(r.source, r.target, r.weight, r.keywords) for r in found.relations] == [
        ("ADA LOVELACE", "CHARLES BABBAGE", 8.0, ["work", "math"]),
        ("ADA LOVELACE", "CHARLES BABBAGE", 2.0, []),
    ]


def test_it_merges_chunks_into_one_graph() -> None:
    first = extract("Alice Novak founded Borealis Labs in 2019.", "c1")
    second = extract(
        "Borealis Labs operates its main research station in Kirkenes.", "c2", "general"
    )
    merged = merge([first, second])
    assert set(merged.entities) == {"ALICE NOVAK", "BOREALIS LABS", "KIRKENES"}
    labs = merged.entities["BOREALIS LABS"]
    assert labs.type == "organization" and labs.chunk_ids == ["c1", "c2"]
    assert labs.description.splitlines() == [
        "Alice Novak founded Borealis Labs in 2019.",
        "Borealis Labs operates its main research station in Kirkenes.",
    ]
    assert merged.entities["KIRKENES"].type == "geo"
    assert set(merged.relations) == {
        ("ALICE NOVAK", "BOREALIS LABS"),
        ("BOREALIS LABS", "KIRKENES"),
    }


def test_it_resolves_alike_names_the_model_confirms() -> None:
    entities = {
        n: Entity(n, "organization", f"About {n}.", [f"c{i}"])
        for i, n in enumerate(
            ["BOREALIS LABS", "BOREALIS LAB", "BOREAL LINES", "ROUTE 66", "ROUTE 67"]
        )
    }
    entities["BOREALIS LABS"].chunk_ids.append("c9")
    pairs = resolution.candidate_pairs(entities.values())["organization"]
    assert ("BOREALIS LAB", "BOREALIS LABS") in pairs
    assert ("ROUTE 66", "ROUTE 67") not in pairs  # a digit differs
    answer = answer_resolution(resolution_prompt("organization", pairs), [])
    yes = resolution.parse_answers(answer, len(pairs))
    same = [pairs[i - 1] for i in yes]
    assert same == [("BOREALIS LAB", "BOREALIS LABS")]
    relations = {
        ("BOREALIS LAB", "KIRKENES"): Relation(
            "BOREALIS LAB", "KIRKENES", "Based there.", [], 2.0, ["c1"]
        ),
        ("BOREALIS LABS", "KIRKENES"): Relation(
            "BOREALIS LABS", "KIRKENES", "Station.", [], 5.0, ["c0"]
        ),
    }
    renamed = resolution.apply_merges(entities, relations, resolution.merge_groups(same))
    assert renamed == {"BOREALIS LAB": "BOREALIS LABS"}  # the better-attested name stays
    assert "BOREALIS LAB" not in entities
    assert entities["BOREALIS LABS"].chunk_ids == ["c0", "c9", "c1"]
    assert list(relations) == [("BOREALIS LABS", "KIRKENES")]
    assert relations[("BOREALIS LABS", "KIRKENES")].weight == 7.0


def test_it_finds_communities_and_reads_their_reports() -> None:
    entities = [Entity(n, "person", f"{n} text.", ["c"]) for n in "ABCDEFG"]
    relations = [
        Relation(a, b, f"{a}-{b}", [], 5.0, ["c"])
        for a, b in [
            ("A", "B"),
            ("B", "C"),
            ("A", "C"),
            ("E", "F"),
            ("F", "G"),
            ("E", "G"),
            ("C", "E"),
        ]
    ]
    graph = communities.build_graph(entities, relations)
    found = communities.detect(graph)
    assert found == [["A", "B", "C"], ["E", "F", "G"]]  # D has no relation: in none
    rank = communities.pageranks(graph)
    assert rank["C"] > rank["A"] > rank["D"]
    rows = communities.report_inputs(found[0], {e.name: e for e in entities}, relations, rank)
    answer = answer_community(community_prompt(*rows), [])
    report = communities.parse_report("```json\n" + answer + "\n```")
    assert report is not None and report.title == "Community of C and A"
    assert [f["explanation"] for f in report.findings] == ["A-B", "A-C", "B-C"]
    assert communities.parse_report("no JSON here") is None
    assert communities.parse_report(json.dumps({"summary": "no title"})) is None


def test_the_kg_chunk_reads_like_ragflows() -> None:
    text = kg_text(
        [EntityLine("ALICE NOVAK", 1.0, "Founder, of Borealis Labs.")],
        [RelationLine("ALICE NOVAK", "BOREALIS LABS", 0.5, "Alice Novak founded it.")],
        [CommunityLine("Community of Borealis", "Report text.", "Evidence.")],
    )
    assert text == (
        "\n---- Entities ----\n,Entity,Score,Description\n"
        '0,ALICE NOVAK,1.00,"Founder, of Borealis Labs."\n'
        "\n---- Relations ----\n,From Entity,To Entity,Score,Description\n"
        "0,ALICE NOVAK,BOREALIS LABS,0.50,Alice Novak founded it.\n"
        "\n---- Community Report ----\n"
        "# 1. Community of Borealis\n## Content\nReport text.\n## Evidences\nEvidence.\n"
    )
    assert kg_text([], [], []) == ""
