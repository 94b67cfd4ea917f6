"""Answers of the built-in model through the real completion API: facts, order, no-answer."""

from __future__ import annotations

import io
import itertools
import re

import pytest

from chat.llm.extractive import NOT_FOUND_EN
from chat.models import DEFAULT_EMPTY_RESPONSE, ChatSession
from chat.services.citations import CITATION
from tests.helpers import assert_ok

HARDWARE = (
    "Prerequisites\n"
    "Before you install, make sure your machine meets the minimum hardware requirements:\n"
    "- CPU >= 4 cores\n"
    "- RAM >= 16 GB\n"
    "- Disk >= 50 GB\n"
    "Stop all running containers:\n"
    "docker compose down"
)
_names = itertools.count()
OTHERS = [
    "The lighthouse on Vinga was lit in 1890 and guided ships into Gothenburg.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Kolguev island lies in the Barents Sea; walruses haul out on its northern beaches.",
    "Tax forms are due in April. Late filing costs a fee.",
]


def _chat(api22, contents: list[str], **prompt: object) -> dict:
    name = f"kb{next(_names)}"
    dataset = assert_ok(api22.post("/api/v1/datasets", {"name": name}))
    part = io.BytesIO(b"x")
    part.name = "readme.md"
    (doc,) = assert_ok(
        api22.client.post(
            f"/api/v1/datasets/{dataset['id']}/documents", {"file": [part]}, headers=api22.headers
        )
    )
    for content in contents:
        assert_ok(
            api22.post(
                f"/api/v1/datasets/{dataset['id']}/documents/{doc['id']}/chunks",
                {"content": content},
            )
        )
    body: dict = {"name": name, "dataset_ids": [dataset["id"]]}
    if prompt:
        body["prompt"] = prompt
    return assert_ok(api22.post("/api/v1/chats", body))


def _ask(api22, chat: dict, question: str) -> dict:
    session = assert_ok(api22.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))
    return assert_ok(
        api22.post(
            f"/api/v1/chats/{chat['id']}/completions",
            {"question": question, "session_id": session["id"], "stream": False},
        )
    )


def test_hardware_requirements_are_answered_with_the_list_not_the_heading(api22) -> None:
    chat = _chat(api22, [HARDWARE, *OTHERS])
    data = _ask(api22, chat, "What are the minimum hardware requirements?")
    answer = data["answer"]
    for item in ("CPU >= 4 cores", "RAM >= 16 GB", "Disk >= 50 GB"):
        assert item in answer
    # Headings and lead-ins only come with what they introduce, never alone.
    assert "Prerequisites" not in answer
    assert not re.search(r":\s*\[ID:\d+\]", answer)
    assert "docker compose" not in answer
    cited = [int(n) for n in CITATION.findall(answer)]
    assert cited and cited[0] == 0
    assert "CPU >= 4 cores" in data["reference"]["chunks"][0]["content"]


def test_a_bare_lead_in_is_never_the_answer(api22) -> None:
    chat = _chat(api22, ["Installation\nStop all running containers:", *OTHERS])
    data = _ask(api22, chat, "How do I stop all running containers?")
    assert "Stop all running containers" not in data["answer"]


def test_citations_read_1_2_3_in_answer_order(api22) -> None:
    # Retrieval ranks the chunks by its own scores; the answer's markers start from [ID:0]
    # and the reference lists the cited chunks first, in the order the answer cites them.
    chat = _chat(api22, OTHERS, similarity_threshold=0.0, top_n=8)
    data = _ask(api22, chat, "What do we know about walruses on Kolguev island?")
    answer, chunks = data["answer"], data["reference"]["chunks"]
    cited = [int(n) for n in CITATION.findall(answer)]
    assert len(set(cited)) >= 2, answer
    first_seen = list(dict.fromkeys(cited))
    assert first_seen == list(range(len(first_seen)))
    for n in first_seen:
        # Every marker points at a chunk that holds the sentence just before it.
        before = answer[: answer.index(f"[ID:{n}]")].rstrip()
        sentence = re.split(r"\[ID:\d+\]", before)[-1].strip()
        assert sentence in chunks[n]["content"]
    assert len(chunks) == data["reference"]["total"]
    assert {c["content"] for c in chunks} <= set(OTHERS)


def test_nothing_found_is_one_text_without_sources(api22) -> None:
    chat = _chat(api22, OTHERS, similarity_threshold=0.0)
    # Retrieval finds chunks (threshold 0), but none answers: the no-answer text, no sources.
    data = _ask(api22, chat, "What is the boiling point of mercury?")
    assert data["answer"] == DEFAULT_EMPTY_RESPONSE
    assert data["reference"]["chunks"] == [] and data["reference"]["total"] == 0
    # Retrieval finds nothing: the same text, the same empty reference.
    strict = _chat(api22, OTHERS, similarity_threshold=0.99)
    data = _ask(api22, strict, "What is the boiling point of mercury?")
    assert data["answer"] == DEFAULT_EMPTY_RESPONSE
    assert data["reference"]["chunks"] == []
    session = ChatSession.objects.get(pk=data["session_id"])
    assert session.references[-1]["chunks"] == []


def test_the_built_in_no_answer_text_is_the_default_empty_response() -> None:
    assert NOT_FOUND_EN == DEFAULT_EMPTY_RESPONSE


def test_a_chats_own_empty_response_is_the_no_answer_text(api22) -> None:
    chat = _chat(api22, OTHERS, similarity_threshold=0.0, empty_response="Nothing here.")
    data = _ask(api22, chat, "What is the boiling point of mercury?")
    assert data["answer"] == "Nothing here." and data["reference"]["chunks"] == []


@pytest.mark.parametrize("limit", [40])
def test_answers_never_exceed_the_answer_ceiling(api22, settings, limit: int) -> None:
    settings.RAGSITE_MAX_ANSWER_CHARS = limit
    chat = _chat(api22, [HARDWARE, *OTHERS])
    data = _ask(api22, chat, "What are the minimum hardware requirements?")
    assert 0 < len(data["answer"]) <= limit
