"""parser_config.toc_extraction builds a table of contents from the headings at parse time;
retrieval with `toc_enhance` adds the chunks of the sections relevant to the question, chosen
by the dataset's chat model when there is one, else by the question's terms in the titles."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.base import ContentFile

from knowledge.models import Dataset, Document, ModelProvider
from knowledge.parser_config import ParserConfig
from knowledge.parsing.toc import build_toc
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from knowledge.services.ingest import parse_start, run_parse
from ragsite.accounts.models import User
from tests.helpers import assert_ok

pytestmark = pytest.mark.django_db

# The answer to "When is the fog signal sounded?" sits in a chunk that shares no word with
# it, under the heading "Fog signal hours".
GUIDE = b"""# Keeping the light

The keepers polish the brass lens each morning.

## Fog signal hours

The fog signal horn is mounted on the north pier.

Only from October to March between dusk and dawn.

## Lamp cleaning

Wicks are trimmed and the glass wiped with vinegar.
"""
ANSWER = "Only from October to March between dusk and dawn."
QUESTION = "When is the fog signal sounded?"


def parsed(tenant: User, *, toc: bool = True, name: str = "guide") -> tuple[Dataset, Document]:
    config = ParserConfig.model_validate(
        {"chunk_token_num": 16, "delimiter": "\n", "toc_extraction": toc}
    )
    dataset = dataset_create(tenant=tenant, name=name, parser_config=config)
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="guide.md", file=ContentFile(GUIDE), size=len(GUIDE))],
    )
    parse_start(dataset=dataset, document_ids=[document.pk])
    generation = Document.objects.get(pk=document.pk).parse_generation
    assert run_parse(document.pk, generation) == "done"
    document.refresh_from_db()
    dataset.refresh_from_db()
    return dataset, document


def retrieve(api: Any, dataset: Dataset, question: str, **extra: Any) -> dict[str, Any]:
    body = {"question": question, "dataset_ids": [dataset.pk], "vector_similarity_weight": 0,
            "similarity_threshold": 0.1, **extra}  # fmt: skip
    return assert_ok(api.post("/api/v1/retrieval", body))


def test_parse_builds_the_toc_from_the_headings(tenant: User) -> None:
    _, document = parsed(tenant)
    chunks = dict(document.chunks.values_list("id", "content"))
    toc = {e["title"]: (e["level"], [chunks[i] for i in e["ids"]]) for e in document.toc}
    assert list(toc) == ["Keeping the light", "Fog signal hours", "Lamp cleaning"]
    level, contents = toc["Fog signal hours"]
    assert ANSWER in contents
    assert not any("Wicks" in c for c in contents)
    # The top section holds its subsections.
    assert len(toc["Keeping the light"][1]) == len(chunks)
    assert "Table of contents: 3 section(s) from the headings." in document.progress_msg
    # Without toc_extraction there is none.
    _, plain = parsed(tenant, toc=False, name="plain")
    assert plain.toc == []


def test_a_document_without_headings_says_so_in_its_log(tenant: User) -> None:
    config = ParserConfig.model_validate({"toc_extraction": True})
    dataset = dataset_create(tenant=tenant, name="flat", parser_config=config)
    text = b"just a line of prose without any heading at all."
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="flat.txt", file=ContentFile(text), size=len(text))],
    )
    parse_start(dataset=dataset, document_ids=[document.pk])
    assert run_parse(document.pk, Document.objects.get(pk=document.pk).parse_generation) == "done"
    document.refresh_from_db()
    assert document.toc == []
    assert "no headings found and no chat model; none built" in document.progress_msg


# No line of it looks like a heading on its own; the test model sees a short phrase ending in
# a full stop at the start of a chunk as one.
PROSE = """Fog signal. The horn is mounted on the north pier.
Only from October to March between dusk and dawn.
Lamp care. Wicks are trimmed and the glass wiped with vinegar.
"""


def _toc_from_text_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "Table-of-Contents (TOC) extractor" in str(messages[0].get("content"))


def _headings_of_chunks(prompt: str, messages: list[dict[str, Any]]) -> str:
    out = []
    for line in prompt.splitlines():
        if not line.startswith("{"):
            continue
        ((number, text),) = json.loads(line).items()
        head = re.match(r"(\w+(?: \w+){0,2})\.(?:\s|$)", text)
        title = head.group(1) if head else "-1"
        out.append({"title": title, "chunk_id": number, "level": 1})
    return json.dumps(out)


def test_the_chat_model_proposes_a_toc_for_a_document_without_headings(
    api: Any, tenant: User, llm_server: Any, llm_provider: ModelProvider
) -> None:
    llm_server.register(_toc_from_text_prompt, _headings_of_chunks)
    config = ParserConfig.model_validate(
        {"chunk_token_num": 12, "delimiter": "\n", "toc_extraction": True}
    )
    dataset = dataset_create(tenant=tenant, name="prose", parser_config=config)
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="prose.txt", file=ContentFile(PROSE.encode()), size=len(PROSE))],
    )
    parse_start(dataset=dataset, document_ids=[document.pk])
    assert run_parse(document.pk, Document.objects.get(pk=document.pk).parse_generation) == "done"
    document.refresh_from_db()
    chunks = dict(document.chunks.values_list("id", "content"))
    toc = {e["title"]: [chunks[i] for i in e["ids"]] for e in document.toc}
    assert list(toc) == ["Fog signal", "Lamp care"], document.progress_msg
    assert ANSWER in toc["Fog signal"] and ANSWER not in toc["Lamp care"]
    assert "2 section(s) from the chat model" in document.progress_msg

    plain = retrieve(api, dataset, QUESTION)
    assert ANSWER not in [c["content"] for c in plain["chunks"]]
    assert ANSWER in [
        c["content"] for c in retrieve(api, dataset, QUESTION, toc_enhance=True)["chunks"]
    ]


def test_a_failing_model_leaves_no_toc_and_the_parse_done(
    tenant: User, llm_server: Any, llm_provider: ModelProvider
) -> None:
    llm_server.fail_with(500, "down")
    config = ParserConfig.model_validate({"toc_extraction": True})
    dataset = dataset_create(tenant=tenant, name="prose", parser_config=config)
    (document,) = document_upload(
        tenant=tenant,
        dataset=dataset,
        uploads=[Upload(name="prose.txt", file=ContentFile(PROSE.encode()), size=len(PROSE))],
    )
    parse_start(dataset=dataset, document_ids=[document.pk])
    assert run_parse(document.pk, Document.objects.get(pk=document.pk).parse_generation) == "done"
    document.refresh_from_db()
    assert document.toc == [] and "Table of contents: none built" in document.progress_msg


def test_build_toc_sections_end_at_the_next_heading_of_their_level() -> None:
    contents = ["A\nintro", "A.1\nx", "more x", "A.2\ny", "B\nz"]
    headings = [(1, "A"), (2, "A.1"), (2, "A.2"), (1, "B")]
    toc = build_toc(headings, contents, ["c0", "c1", "c2", "c3", "c4"])
    assert [(e["title"], e["ids"]) for e in toc] == [
        ("A", ["c0", "c1", "c2", "c3"]),
        ("A.1", ["c1", "c2"]),
        ("A.2", ["c3"]),
        ("B", ["c4"]),
    ]


def test_toc_enhance_adds_the_section_of_a_matching_heading(api: Any, tenant: User) -> None:
    dataset, _ = parsed(tenant)
    plain = retrieve(api, dataset, QUESTION)
    assert plain["chunks"] and ANSWER not in [c["content"] for c in plain["chunks"]]

    enhanced = retrieve(api, dataset, QUESTION, toc_enhance=True)
    contents = [c["content"] for c in enhanced["chunks"]]
    assert ANSWER in contents
    # After the hits that brought it, scored below them; nothing from the other section.
    assert contents[: len(plain["chunks"])] == [c["content"] for c in plain["chunks"]]
    answer = enhanced["chunks"][contents.index(ANSWER)]
    assert answer["similarity"] < min(c["similarity"] for c in plain["chunks"])
    assert not any("Wicks" in c for c in contents)
    assert len({c["id"] for c in enhanced["chunks"]}) == len(contents)
    assert enhanced["total"] == plain["total"] + 1
    # The page size holds.
    assert len(retrieve(api, dataset, QUESTION, toc_enhance=True, page_size=1)["chunks"]) == 1


def test_toc_enhance_without_toc_extraction_changes_nothing(api: Any, tenant: User) -> None:
    dataset, _ = parsed(tenant, toc=False)
    plain = retrieve(api, dataset, QUESTION)
    assert retrieve(api, dataset, QUESTION, toc_enhance=True)["chunks"] == plain["chunks"]


def _toc_prompt(prompt: str, messages: list[dict[str, Any]]) -> bool:
    return "**Input TOC:**" in prompt


def _scores_by_synonym(prompt: str, messages: list[dict[str, Any]]) -> str:
    """A model that knows a horn is a fog signal: 5 for titles naming what the query names."""
    toc = prompt.split("**Input TOC:**", 1)[1].split("**Query:**", 1)[0]
    query = prompt.split("**Query:**", 1)[1].lower()
    if "horn" in query:
        query += " fog signal"
    items = [json.loads(line) for line in toc.splitlines() if line.startswith("{")]
    for item in items:
        words = re.findall(r"\w+", item["title"].lower())
        item["score"] = 5 if any(w in query.split() for w in words if len(w) > 3) else -1
    return json.dumps(items)


def test_the_chat_model_chooses_the_sections(
    api: Any, tenant: User, llm_server: Any, llm_provider: ModelProvider
) -> None:
    llm_server.register(_toc_prompt, _scores_by_synonym)
    dataset, _ = parsed(tenant)
    # The terms of "horn" name no title; the model knows the horn is the fog signal.
    question = "At what times does the horn blow?"
    with_model = retrieve(api, dataset, question, toc_enhance=True)
    assert ANSWER in [c["content"] for c in with_model["chunks"]]
    asked = [p for p in llm_server.prompts() if "**Input TOC:**" in p]
    assert asked and '"title": "Fog signal hours"' in asked[-1] and question in asked[-1]

    ModelProvider.objects.update(enabled=False)
    by_terms = retrieve(api, dataset, question, toc_enhance=True)
    assert ANSWER not in [c["content"] for c in by_terms["chunks"]]


def test_a_failing_chat_model_falls_back_to_the_terms(
    api: Any, tenant: User, llm_server: Any, llm_provider: ModelProvider
) -> None:
    dataset, _ = parsed(tenant)
    llm_server.fail_with(500, "down")
    enhanced = retrieve(api, dataset, QUESTION, toc_enhance=True)
    assert ANSWER in [c["content"] for c in enhanced["chunks"]]


def test_a_foreign_dataset_is_refused(api: Any, other_api: Any, tenant: User) -> None:
    dataset, _ = parsed(tenant)
    body = {"question": QUESTION, "dataset_ids": [dataset.pk], "toc_enhance": True}
    response = other_api.post("/api/v1/retrieval", body).json()
    assert response["code"] == 102 and "You don't own the dataset" in response["message"]


@pytest.mark.parametrize("value", [[True], {"on": 1}])
def test_a_toc_enhance_of_the_wrong_type_is_an_argument_error(
    api: Any, tenant: User, value: Any
) -> None:
    dataset, _ = parsed(tenant)
    body = {"question": QUESTION, "dataset_ids": [dataset.pk], "toc_enhance": value}
    response = api.post("/api/v1/retrieval", body).json()
    assert response["code"] == 101 and "toc_enhance" in response["message"]


def test_a_chat_with_toc_enhance_cites_the_section(
    api: Any, tenant: User, llm_server: Any, llm_provider: ModelProvider
) -> None:
    llm_server.register(_toc_prompt, _scores_by_synonym)
    dataset, _ = parsed(tenant)

    def references(prompt: dict[str, Any]) -> list[str]:
        body = {"name": f"chat {len(prompt)}", "dataset_ids": [dataset.pk],
                "llm": {"model_name": "tiny@TestLLM"},
                "prompt": {"similarity_threshold": 0.1, "keywords_similarity_weight": 0.0,
                           **prompt}}  # fmt: skip
        chat = assert_ok(api.post("/api/v1/chats", body))
        session = assert_ok(api.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))
        reply = assert_ok(
            api.post(
                f"/api/v1/chats/{chat['id']}/completions",
                {"question": QUESTION, "stream": False, "session_id": session["id"]},
            )
        )
        return [c["content"] for c in reply["reference"]["chunks"]]

    plain = references({})
    assert plain and ANSWER not in plain
    assert ANSWER in references({"toc_enhance": True})
