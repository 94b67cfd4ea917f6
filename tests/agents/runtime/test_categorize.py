"""Categorize: offline lexical routing, model routing, and falling back when the model fails."""

from __future__ import annotations

from typing import Any

import pytest

from agents.runtime import categorize, llm
from agents.runtime.categorize import parse_choice, pick_lexically
from chat.llm import ChatModelError
from chat.llm.fake import ScriptedChatModel
from ragsite.accounts.models import User
from tests.agents.runtime.helpers import component, dsl_of, reply_text, run

CATEGORIES: dict[str, Any] = {
    "billing": {
        "description": "Invoices, refunds, payment methods and prices.",
        "examples": ["Why was my card charged twice?", "How do I get a refund?"],
        "to": ["Message:Billing"],
    },
    "technical": {
        "description": "Errors, crashes, installation and configuration problems.",
        "examples": "The app crashes on start\nI cannot install the server",
        "to": "Message:Tech",
    },
    "other": {"description": "Anything else.", "to": ["Message:Other"]},
}


def routing_dsl(**params: Any) -> dict[str, Any]:
    return dsl_of(
        {
            "begin": component("Begin", {}, ["Categorize:C"]),
            "Categorize:C": component(
                "Categorize",
                {"category_description": CATEGORIES, **params},
                ["Message:Billing", "Message:Tech", "Message:Other"],
            ),
            "Message:Billing": component(
                "Message", {"content": "billing:{Categorize:C@category_name}"}
            ),
            "Message:Tech": component("Message", {"content": "tech"}),
            "Message:Other": component("Message", {"content": "other"}),
        }
    )


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        ("I want a refund for the invoice", "billing:billing"),
        ("The server crashes after installation", "tech"),
        ("Tell me a joke about penguins", "billing:billing"),  # no overlap: the first category
        ("我的发票", "billing:billing"),
    ],
)
def test_categorize_routes_offline_by_lexical_overlap(
    tenant: User, question: str, reply: str
) -> None:
    events = run(routing_dsl(), tenant, question)
    assert reply_text(events) == reply
    assert [e.kind for e in events].count("message_end") == 1  # only the chosen branch ran


def test_categorize_reads_its_query_from_a_variable(tenant: User) -> None:
    dsl = routing_dsl(query="begin@topic")
    dsl["components"]["begin"]["obj"]["params"]["inputs"] = {"topic": {"optional": True}}
    events = run(dsl, tenant, "refund please", inputs={"topic": "installation crashes"})
    assert reply_text(events) == "tech"


def test_pick_lexically_prefers_terms_unique_to_one_category() -> None:
    assert pick_lexically("configuration error", CATEGORIES) == "technical"
    assert pick_lexically("", CATEGORIES) == "billing"


def test_categorize_asks_a_generative_model(tenant: User, monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedChatModel(["Category: ", "other"])
    monkeypatch.setattr(llm, "get_chat_model", lambda model_id: model)
    assert reply_text(run(routing_dsl(llm_id="m@Test"), tenant, "refund my invoice")) == "other"
    (request,) = model.requests
    assert request.question == "refund my invoice"
    assert "- billing: Invoices" in request.system and "Example: The app crashes" in request.system


def test_categorize_falls_back_when_the_model_fails(
    tenant: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ScriptedChatModel([], error=ChatModelError("The model is unreachable."))
    monkeypatch.setattr(llm, "get_chat_model", lambda model_id: model)
    events = run(routing_dsl(llm_id="m@Test"), tenant, "the app crashes")
    assert reply_text(events) == "tech"
    assert len(model.requests) == 1


def test_categorize_falls_back_when_the_reply_names_no_category(
    tenant: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm, "get_chat_model", lambda model_id: ScriptedChatModel(["Hmm?"]))
    assert reply_text(run(routing_dsl(), tenant, "refund the invoice")) == "billing:billing"


@pytest.mark.parametrize(
    ("reply", "choice"),
    [
        ("billing", "billing"),
        ("  Technical. ", "technical"),
        ("**other**", "other"),
        ("I think this is technical, not billing", "technical"),
        ("no idea", None),
    ],
)
def test_parse_choice_is_robust(reply: str, choice: str | None) -> None:
    assert parse_choice(reply, list(CATEGORIES)) == choice


def test_examples_accept_lists_of_values() -> None:
    assert categorize.examples_of({"examples": [{"value": "a"}, "b", ""]}) == ["a", "b"]
