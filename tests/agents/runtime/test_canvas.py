"""run_agent end to end: both naming generations, streaming, references, variables, failures."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from agents.runtime import canvas, llm, run_agent
from chat.llm import ChatRequest
from chat.llm.fake import ScriptedChatModel
from knowledge.models import Dataset, ModelProvider
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from tests.agents.runtime.helpers import component, dsl_of, reply_text, run, seed_dsl

QUESTION = "How many walruses were counted on Kolguev island?"


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    """Every LLM component talks to one scripted model."""
    model = ScriptedChatModel(["The answer ", "is ", "42."])
    monkeypatch.setattr(llm, "get_chat_model", lambda model_id: model)
    return model


def llm_to_message(llm_params: dict[str, Any], template: str = "{LLM:A@content}") -> dict:
    return dsl_of(
        {
            "begin": component("Begin", {}, ["LLM:A"]),
            "LLM:A": component("LLM", llm_params, ["Message:M"], ["begin"]),
            "Message:M": component("Message", {"content": [template]}, [], ["LLM:A"]),
        }
    )


# --- the seed DSL and the v0.17 generation ----------------------------------------------------


def test_seed_dsl_streams_the_answer_then_its_reference(tenant: User, facts: Dataset) -> None:
    events = run(seed_dsl(facts.pk), tenant, QUESTION)
    deltas = [e for e in events if e.kind == "message"]
    assert len(deltas) > 1  # streamed, not one block
    assert "4312" in reply_text(events)
    assert "[ID:0]" in reply_text(events)
    end = events[-1]
    assert end.kind == "message_end" and [e.kind for e in events].count("message_end") == 1
    assert set(end.reference) == {"chunks", "doc_aggs"}
    chunk = end.reference["chunks"]["0"]
    assert "4312" in chunk["content"]
    assert chunk["dataset_id"] == facts.pk and chunk["document_name"] == "facts.txt"
    assert end.reference["doc_aggs"] == {
        "facts.txt": {"doc_name": "facts.txt", "doc_id": chunk["document_id"], "count": 1}
    }


def test_v017_generate_and_answer_dsl_runs(tenant: User, facts: Dataset) -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {"prologue": "Hello"}, ["Retrieval:Old"]),
            "Retrieval:Old": component("Retrieval", {"kb_ids": [facts.pk]}, ["Generate:Old"]),
            "Generate:Old": component(
                "Generate", {"prompt": "Use this: {input}", "cite": True}, ["Answer:Old"]
            ),
            "Answer:Old": component("Answer", {}, [], ["Generate:Old"]),
        }
    )
    events = run(dsl, tenant, QUESTION)
    assert "4312" in reply_text(events)
    assert events[-1].kind == "message_end" and "0" in events[-1].reference["chunks"]


def test_generate_fills_input_with_the_upstream_output(
    tenant: User, facts: Dataset, scripted: ScriptedChatModel
) -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Retrieval:R"]),
            "Retrieval:R": component("Retrieval", {"kb_ids": [facts.pk]}, ["Generate:G"]),
            "Generate:G": component("Generate", {"prompt": "Knowledge: {input}"}, ["Answer:A"]),
            "Answer:A": component("Answer", {}, []),
        }
    )
    assert reply_text(run(dsl, tenant, QUESTION)) == "The answer is 42."
    (request,) = scripted.requests
    assert request.system.startswith("Knowledge: ID: 0\n├── Title: facts.txt")
    assert "4312" in request.system
    assert request.question == QUESTION


def test_retrieval_numbers_hits_run_wide_and_llm_gets_them(
    tenant: User, facts: Dataset, scripted: ScriptedChatModel
) -> None:
    dsl = seed_dsl(facts.pk)
    run(dsl, tenant, QUESTION, history=[("user", "hi"), ("assistant", "hello")])
    (request,) = scripted.requests
    assert [k.index for k in request.knowledge] == list(range(len(request.knowledge)))
    assert "4312" in request.knowledge[0].content
    assert request.system.startswith("Answer from this knowledge: ID: 0\n")
    assert [(m.role, m.content) for m in request.history] == [
        ("user", "hi"),
        ("assistant", "hello"),
    ]
    assert request.quote is True and request.has_datasets is True


def test_a_reply_without_citations_has_no_reference(tenant: User) -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Message:M"]),
            "Message:M": component("Message", {"content": "Plain [ID:9] text"}),
        }
    )
    events = run(dsl, tenant, "q")
    assert [e.kind for e in events][-1] == "message_end"
    assert events[-1].reference is None  # [ID:9] names no retrieved chunk


def test_every_message_component_is_its_own_reply(tenant: User) -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Message:One"]),
            "Message:One": component("Message", {"content": "one"}, ["Message:Two"]),
            "Message:Two": component("Message", {"content": "two"}),
        }
    )
    events = run(dsl, tenant, "q")
    assert [(e.kind, e.content) for e in events] == [
        ("message", "one"),
        ("message_end", ""),
        ("message", "two"),
        ("message_end", ""),
    ]


# --- streaming ----------------------------------------------------------------------------------


def test_message_streams_llm_deltas_as_the_model_produces_them(
    tenant: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[str] = []

    class Logging(ScriptedChatModel):
        async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
            for delta in ["a", "b", "c"]:
                log.append(f"produced {delta}")
                yield delta

    monkeypatch.setattr(llm, "get_chat_model", lambda model_id: Logging([]))

    async def consume() -> None:
        async for event in run_agent(
            llm_to_message({}, "<{LLM:A@content}>"),
            tenant=tenant,
            question="q",
            history=[],
            inputs={},
        ):
            log.append(f"{event.kind} {event.content}".strip())

    async_to_sync(consume)()
    assert log == [
        "message <",
        "produced a",
        "message a",
        "produced b",
        "message b",
        "produced c",
        "message c",
        "message >",
        "message_end",
    ]


def test_an_llm_output_read_twice_calls_the_model_once(
    tenant: User, scripted: ScriptedChatModel
) -> None:
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["LLM:A"]),
            "LLM:A": component("LLM", {}, ["LLM:B"]),
            "LLM:B": component(
                "LLM",
                {"prompts": [{"role": "user", "content": "Check: {LLM:A@content}"}]},
                ["Message:M"],
            ),
            "Message:M": component("Message", {"content": "{LLM:A@content} / {LLM:B@content}"}),
        }
    )
    assert reply_text(run(dsl, tenant, "q")) == "The answer is 42. / The answer is 42."
    assert [r.question for r in scripted.requests] == ["q", "Check: The answer is 42."]


def test_an_unread_llm_output_never_calls_the_model(
    tenant: User, scripted: ScriptedChatModel
) -> None:
    assert reply_text(run(llm_to_message({}, "nothing"), tenant, "q")) == "nothing"
    assert scripted.requests == []


def test_llm_builds_the_request_from_its_params(tenant: User, scripted: ScriptedChatModel) -> None:
    params = {
        "sys_prompt": "You help {sys.user_id}.",
        "prompts": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "Now: {sys.query}"},
        ],
        "temperature": 0.7,
        "top_pEnabled": False,
        "top_p": 0.9,
        "max_tokens": 99,
        "cite": False,
    }
    run(llm_to_message(params), tenant, "why?", user_id="u-1")
    (request,) = scripted.requests
    assert request.system == "You help u-1."
    assert request.question == "Now: why?"
    assert [(m.role, m.content) for m in request.history] == [
        ("user", "first"),
        ("assistant", "ok"),
    ]
    assert (request.temperature, request.top_p, request.max_tokens) == (0.7, 0.3, 99)
    assert request.quote is False and request.knowledge == []


def test_agent_component_runs_like_llm_and_logs_ignored_tools(
    tenant: User, scripted: ScriptedChatModel, caplog: pytest.LogCaptureFixture
) -> None:
    dsl = llm_to_message({})
    dsl["components"]["LLM:A"]["obj"] = {
        "component_name": "Agent",
        "params": {"tools": [{"component_name": "TavilySearch"}]},
    }
    with caplog.at_level(logging.INFO, logger="agents.runtime.llm"):
        assert reply_text(run(dsl, tenant, "q")) == "The answer is 42."
    assert "not supported" in caplog.text


# --- variables ----------------------------------------------------------------------------------


def test_sys_and_begin_variables_are_interpolated(tenant: User) -> None:
    inputs_def = {
        "name": {"name": "Name", "type": "line"},
        "level": {"name": "Level", "type": "integer", "optional": True},
        "tone": {"name": "Tone", "type": "options", "value": "calm"},
    }
    template = (
        "{sys.query}|{sys.user_id}|{sys.conversation_turns}|{begin@name}|{begin@level}|"
        '{begin@tone}|{env.team}|{sys.files}|{ begin@name }|{not a ref}|{"json":1}'
    )
    dsl = dsl_of(
        {
            "begin": component("Begin", {"inputs": inputs_def}, ["Message:M"]),
            "Message:M": component("Message", {"content": [template]}),
        }
    )
    dsl["globals"] = {"env.team": "ops"}
    events = run(
        dsl,
        tenant,
        "hello?",
        history=[("user", "hi"), ("assistant", "hey")],
        inputs={"name": {"type": "line", "value": "Ann"}, "level": 3},
        user_id="u-7",
    )
    assert reply_text(events) == 'hello?|u-7|2|Ann|3|calm|ops||Ann|{not a ref}|{"json":1}'


def test_a_missing_required_begin_input_is_an_error(tenant: User) -> None:
    dsl = dsl_of(
        {
            "begin": component(
                "Begin", {"inputs": {"kb": {"type": "line", "optional": False}}}, ["Message:M"]
            ),
            "Message:M": component("Message", {"content": "{begin@kb}"}),
        }
    )
    events = run(dsl, tenant, "q", inputs={"kb": {"type": "line", "value": ""}})
    assert [e.kind for e in events] == ["error"]
    assert events[0].error == "Component 'begin' failed: The input 'kb' is required."
    assert reply_text(run(dsl, tenant, "q", inputs={"kb": "given"})) == "given"


def test_retrieval_reads_dataset_ids_from_a_begin_input(tenant: User, facts: Dataset) -> None:
    dsl = seed_dsl(facts.pk)
    dsl["components"]["begin"]["obj"]["params"]["inputs"] = {"kb": {"type": "line"}}
    dsl["components"]["Retrieval:Facts"]["obj"]["params"]["kb_ids"] = ["begin@kb"]
    events = run(dsl, tenant, QUESTION, inputs={"kb": {"value": facts.pk}})
    assert "4312" in reply_text(events)


# --- message templates --------------------------------------------------------------------------


def test_message_chooses_one_template_at_random(tenant: User) -> None:
    templates = ["Hello {sys.query}!", "Hi {sys.query}."]
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Message:M"]),
            "Message:M": component("Message", {"content": templates}),
        }
    )
    seen = set()
    for seed in range(12):
        random.seed(seed)
        expected = random.choice(templates).replace("{sys.query}", "Bo")
        random.seed(seed)
        text = reply_text(run(dsl, tenant, "Bo"))
        assert text == expected
        seen.add(text)
    assert seen == {"Hello Bo!", "Hi Bo."}


# --- graph walking ------------------------------------------------------------------------------


def test_a_join_waits_for_all_its_running_parents(tenant: User) -> None:
    def say(text: str, down: list[str]) -> dict:
        return component("Message", {"content": text}, down)

    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Message:A", "Message:X"]),
            "Message:A": say("a", ["Message:B"]),
            "Message:B": say("b", ["Message:C"]),
            "Message:C": say("c", ["Message:J"]),
            "Message:X": say("x", ["Message:J"]),
            "Message:J": say("j", []),
        }
    )
    events = run(dsl, tenant, "q")
    assert [e.content for e in events if e.kind == "message"] == ["a", "x", "b", "c", "j"]


def test_runaway_runs_are_stopped(tenant: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canvas, "MAX_STEPS", 2)
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["Message:A"]),
            "Message:A": component("Message", {"content": "a"}, ["Message:B"]),
            "Message:B": component("Message", {"content": "b"}),
        }
    )
    events = run(dsl, tenant, "q")
    assert (
        events[-1].kind == "error" and events[-1].error == "The agent ran more than 2 components."
    )
    assert reply_text(events) == "a"


def test_an_invalid_dsl_is_an_error_event(tenant: User) -> None:
    events = run({"components": {"begin": component("Begin", {}, ["Nope:X"])}}, tenant, "q")
    assert [(e.kind, e.error) for e in events] == [
        ("error", "Component 'begin' refers to unknown component 'Nope:X'.")
    ]


# --- failures -----------------------------------------------------------------------------------


def test_an_unreachable_model_is_an_error_naming_the_llm(tenant: User) -> None:
    ModelProvider.objects.create(
        factory="Dead", base_url="http://127.0.0.1:9/v1", chat_models="x", timeout_seconds=2
    )
    dsl = dsl_of(
        {
            "begin": component("Begin", {}, ["LLM:Answer"]),
            "LLM:Answer": component("LLM", {"llm_id": "x@Dead"}, ["Message:Reply"]),
            "Message:Reply": component("Message", {"content": ["{LLM:Answer@content}"]}),
        }
    )
    events = run(dsl, tenant, "hello")
    assert events[-1].kind == "error"
    assert events[-1].error.startswith("Component 'LLM:Answer' failed: ")
    assert "message_end" not in [e.kind for e in events]


def test_an_unknown_model_is_an_error_naming_the_llm(tenant: User) -> None:
    events = run(llm_to_message({"llm_id": "ghost@Nowhere"}), tenant, "q")
    assert [(e.kind, e.error) for e in events] == [
        ("error", "Component 'LLM:A' failed: The chat model ghost@Nowhere is not configured.")
    ]


def test_retrieval_of_a_dataset_the_tenant_does_not_own_fails(
    tenant: User, other_tenant: User
) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret")
    events = run(seed_dsl(theirs.pk), tenant, QUESTION)
    assert [(e.kind, e.error) for e in events] == [
        ("error", f"Component 'Retrieval:Facts' failed: You don't own the dataset {theirs.pk}.")
    ]
