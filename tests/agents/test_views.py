"""The agent pages: list, templates, pasted DSLs, editing with a diagram, and conversations."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agents.models import Agent, AgentSession
from agents.runtime import run_agent, validate_dsl
from agents.services.agents import agent_create, session_create
from agents.templates_library import qa_dsl
from agents.views import diagram_of, in_graph_order
from chat.llm.registry import BUILTIN_EXTRACTIVE
from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

HTMX = {"HX-Request": "true"}
WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
INVOICE = "Invoices are sent on the first working day of each month."


def url(name: str, *args: str) -> str:
    return reverse(f"agents:{name}", args=args)


def htmx_from(path: str) -> dict[str, str]:
    """Headers of an HTMX request made from the page at `path`."""
    return {**HTMX, "HX-Current-URL": f"http://testserver{path}"}


def dataset_with(tenant: User, name: str, *texts: str) -> Dataset:
    dataset = dataset_create(tenant=tenant, name=name)
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name=f"{name}.txt", type="doc", suffix="txt"
    )
    for text in texts:
        chunk_add(document=document, content=text)
    dataset.refresh_from_db()
    return dataset


def replies(agent: Agent, question: str) -> str:
    """The text an agent replies to `question` (a run without a session)."""
    tenant = agent.tenant  # loaded here: the ORM is sync-only

    async def gather() -> str:
        events = [
            event
            async for event in run_agent(
                agent.dsl, tenant=tenant, question=question, history=[], inputs={}
            )
        ]
        assert not [e for e in events if e.kind == "error"], events
        return "".join(e.content for e in events if e.kind == "message")

    return async_to_sync(gather)()


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def walruses(tenant: User) -> Dataset:
    return dataset_with(tenant, "Field notes", WALRUS)


@pytest.fixture
def agent(tenant: User, walruses: Dataset) -> Agent:
    dsl = qa_dsl(dataset_ids=[walruses.pk], llm_id=BUILTIN_EXTRACTIVE, prologue="Ask me.")
    return agent_create(tenant=tenant, title="Walrus agent", description="Counts", dsl=dsl)


def triage_form(first: Dataset, second: Dataset, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Front desk",
        "description": "Routes questions",
        "prologue": "Hello!",
        "llm_id": BUILTIN_EXTRACTIVE,
        "category_1_name": "Wildlife",
        "category_1_description": "Animals, colonies, counts and islands",
        "category_1_examples": "How many walruses are there?\nWhere do seals live?",
        "category_1_datasets": [first.pk],
        "category_2_name": "Billing",
        "category_2_description": "Invoices, payments and prices",
        "category_2_examples": "When is the invoice sent?",
        "category_2_datasets": [second.pk],
        "category_3_name": "",
    }
    data.update(overrides)
    return data


def faq_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Opening hours",
        "description": "",
        "prologue": "Ask about opening hours or parking.",
        "faq_1_keywords": "open, hours",
        "faq_1_answer": "We are open 9:00–17:00 on weekdays.",
        "faq_2_keywords": "parking",
        "faq_2_answer": "Park behind the building.",
        "default_answer": "Please call us.",
    }
    data.update(overrides)
    return data


# --- access -----------------------------------------------------------------------------------


def test_agent_pages_need_login(client: Client, agent: Agent) -> None:
    session = session_create(agent=agent, user_id="x")
    for path in [
        url("agent_list"),
        url("create_agent"),
        url("create_from_template", "qa"),
        url("import_agent"),
        url("agent_detail", agent.pk),
        url("edit_agent", agent.pk),
        url("session_detail", agent.pk, session.pk),
    ]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("login")), path


def test_htmx_requests_without_login_get_a_full_page_redirect(client: Client, agent: Agent) -> None:
    response = client.post(url("delete_agent", agent.pk), headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_other_users_agents_are_not_found(client: Client, agent: Agent, other_tenant: User) -> None:
    session = session_create(agent=agent, user_id="x")
    client.force_login(other_tenant)
    for path in [
        url("agent_detail", agent.pk),
        url("edit_agent", agent.pk),
        url("session_detail", agent.pk, session.pk),
    ]:
        assert client.get(path).status_code == 404, path
    for path in [
        url("edit_agent", agent.pk),
        url("delete_agent", agent.pk),
        url("create_session", agent.pk),
        url("delete_session", agent.pk, session.pk),
    ]:
        assert client.post(path, {"title": "mine now", "dsl": "{}"}).status_code == 404, path
    agent.refresh_from_db()
    assert agent.title == "Walrus agent"
    assert AgentSession.objects.filter(pk=session.pk).exists()
    assert AgentSession.objects.filter(agent=agent).count() == 1
    assert agent.title not in client.get(url("agent_list")).content.decode()


# --- the list ---------------------------------------------------------------------------------


def test_list_shows_cards_with_counts_and_actions(alice: Client, agent: Agent) -> None:
    session_create(agent=agent, user_id="x")
    session_create(agent=agent, user_id="x")
    page = alice.get(url("agent_list")).content.decode()
    card = page[page.index(f'id="agent-{agent.pk}"') :]
    card = card[: card.index("</article>")]
    assert "Walrus agent" in card and "Counts" in card
    counts = re.findall(r'<dd class="meta__number">(\d+)</dd>', card)
    assert counts == ["4", "2"]  # components, sessions
    assert url("agent_detail", agent.pk) in card
    assert url("edit_agent", agent.pk) in card
    assert f'hx-post="{url("delete_agent", agent.pk)}"' in card and "hx-confirm=" in card


def test_empty_list_invites_to_create_one(alice: Client) -> None:
    page = alice.get(url("agent_list")).content.decode()
    assert "No agents yet" in page and url("create_agent") in page


def test_create_page_offers_the_templates_and_a_pasted_dsl(alice: Client) -> None:
    page = alice.get(url("create_agent")).content.decode()
    for slug in ("qa", "triage", "faq"):
        assert url("create_from_template", slug) in page
    assert url("import_agent") in page
    assert "Knowledge-base Q&amp;A" in page and "Fixed-reply FAQ" in page


def test_delete_from_the_list_removes_the_card(alice: Client, agent: Agent) -> None:
    response = alice.post(url("delete_agent", agent.pk), headers=htmx_from(url("agent_list")))
    assert response.status_code == 200 and response.content == b""
    assert not Agent.objects.filter(pk=agent.pk).exists()


def test_delete_from_the_edit_page_returns_to_the_list(alice: Client, agent: Agent) -> None:
    response = alice.post(
        url("delete_agent", agent.pk), headers=htmx_from(url("edit_agent", agent.pk))
    )
    assert response["HX-Redirect"] == url("agent_list")
    assert not Agent.objects.exists()
    response = alice.post(url("delete_agent", "0" * 32))
    assert response.status_code == 404


# --- templates --------------------------------------------------------------------------------


def test_qa_template_builds_a_valid_dsl_and_opens_the_agent(
    alice: Client, tenant: User, walruses: Dataset
) -> None:
    response = alice.post(
        url("create_from_template", "qa"),
        {
            "title": "Walrus Q&A",
            "description": "Answers from the field notes",
            "dataset_ids": [walruses.pk],
            "llm_id": BUILTIN_EXTRACTIVE,
            "prologue": "Ask me about walruses.",
        },
    )
    agent = Agent.objects.get(tenant=tenant, title="Walrus Q&A")
    assert response.status_code == 302
    assert response["Location"] == url("agent_detail", agent.pk)
    validate_dsl(agent.dsl)
    components = agent.dsl["components"]
    assert {cpn_id: c["obj"]["component_name"] for cpn_id, c in components.items()} == {
        "begin": "Begin",
        "Retrieval:Search": "Retrieval",
        "LLM:Answer": "LLM",
        "Message:Reply": "Message",
    }
    assert components["begin"]["downstream"] == ["Retrieval:Search"]
    assert components["Retrieval:Search"]["downstream"] == ["LLM:Answer"]
    assert components["LLM:Answer"]["downstream"] == ["Message:Reply"]
    assert components["Retrieval:Search"]["obj"]["params"]["kb_ids"] == [walruses.pk]
    assert components["begin"]["obj"]["params"]["prologue"] == "Ask me about walruses."
    assert agent.description == "Answers from the field notes"
    assert "4312" in replies(agent, "How many walruses were counted on Kolguev island?")

    page = alice.get(url("agent_list")).content.decode()
    assert "Walrus Q&amp;A" in page


def test_qa_template_needs_a_knowledge_base(alice: Client, walruses: Dataset) -> None:
    response = alice.post(
        url("create_from_template", "qa"), {"title": "No data", "llm_id": BUILTIN_EXTRACTIVE}
    )
    assert response.status_code == 200
    assert "Choose at least one knowledge base" in response.content.decode()
    assert not Agent.objects.exists()


def test_template_form_lists_the_users_knowledge_bases(alice: Client, walruses: Dataset) -> None:
    page = alice.get(url("create_from_template", "qa")).content.decode()
    assert f'value="{walruses.pk}"' in page and "Field notes" in page
    assert "1 chunk" in page


def test_triage_template_routes_each_category_to_its_own_retrieval(
    alice: Client, tenant: User, walruses: Dataset
) -> None:
    billing = dataset_with(tenant, "Billing", INVOICE)
    response = alice.post(url("create_from_template", "triage"), triage_form(walruses, billing))
    assert response.status_code == 302
    agent = Agent.objects.get(title="Front desk")
    validate_dsl(agent.dsl)
    components = agent.dsl["components"]
    categories = components["Categorize:Topic"]["obj"]["params"]["category_description"]
    assert set(categories) == {"Wildlife", "Billing"}
    assert categories["Wildlife"]["examples"] == [
        "How many walruses are there?",
        "Where do seals live?",
    ]
    for name, dataset in (("Wildlife", walruses), ("Billing", billing)):
        (target,) = categories[name]["to"]
        assert components[target]["obj"]["component_name"] == "Retrieval"
        assert components[target]["obj"]["params"]["kb_ids"] == [dataset.pk]
        assert components[target]["downstream"] == ["LLM:Answer"]

    assert "4312" in replies(agent, "How many walruses were counted on the island?")
    assert "first working day" in replies(agent, "When is the invoice sent?")


def test_triage_template_needs_two_named_categories_with_knowledge_bases(
    alice: Client, tenant: User, walruses: Dataset
) -> None:
    billing = dataset_with(tenant, "Billing")
    data = triage_form(walruses, billing, category_2_name="", category_1_datasets=[])
    page = alice.post(url("create_from_template", "triage"), data).content.decode()
    assert "Choose the knowledge bases this category answers from." in page
    assert "This field is required." in page
    assert not Agent.objects.exists()


def test_faq_template_replies_with_fixed_texts_by_keyword(alice: Client, tenant: User) -> None:
    response = alice.post(url("create_from_template", "faq"), faq_form())
    assert response.status_code == 302
    agent = Agent.objects.get(title="Opening hours")
    validate_dsl(agent.dsl)
    switch = agent.dsl["components"]["Switch:Keywords"]["obj"]["params"]
    assert [len(c["items"]) for c in switch["conditions"]] == [2, 1]
    assert switch["end_cpn_ids"] == ["Message:Default"]

    assert replies(agent, "When are you OPEN on Monday?") == "We are open 9:00–17:00 on weekdays."
    assert replies(agent, "Where is the parking?") == "Park behind the building."
    assert replies(agent, "Do you sell walruses?") == "Please call us."


def test_faq_template_wants_a_reply_for_each_keyword_row(alice: Client) -> None:
    page = alice.post(
        url("create_from_template", "faq"), faq_form(faq_3_keywords="wifi", faq_3_answer="")
    ).content.decode()
    assert "Write the reply for these keywords." in page
    assert not Agent.objects.exists()


def test_unknown_template_is_not_found(alice: Client) -> None:
    assert alice.get(url("create_from_template", "nope")).status_code == 404


def test_duplicate_title_is_shown_on_the_title_field(alice: Client, agent: Agent) -> None:
    response = alice.post(url("create_from_template", "faq"), faq_form(title="Walrus agent"))
    assert "You already have an agent with this title." in response.content.decode()
    assert Agent.objects.count() == 1


# --- pasted DSL -------------------------------------------------------------------------------


def test_pasted_dsl_creates_the_agent(alice: Client, walruses: Dataset) -> None:
    dsl = qa_dsl(dataset_ids=[walruses.pk], llm_id="", prologue="Hi")
    response = alice.post(
        url("import_agent"), {"title": "Imported", "description": "", "dsl": json.dumps(dsl)}
    )
    agent = Agent.objects.get(title="Imported")
    assert response["Location"] == url("agent_detail", agent.pk)
    assert agent.dsl["components"].keys() == dsl["components"].keys()


def test_pasted_invalid_dsl_names_the_component_and_creates_nothing(
    alice: Client, walruses: Dataset
) -> None:
    dsl = qa_dsl(dataset_ids=[walruses.pk], llm_id="", prologue="Hi")
    dsl["components"]["LLM:Answer"]["downstream"] = ["Message:Missing"]
    text = json.dumps(dsl, indent=2)
    response = alice.post(url("import_agent"), {"title": "Broken", "dsl": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert escape("Component 'LLM:Answer' refers to unknown component 'Message:Missing'.") in page
    assert escape(text) in page  # the JSON stays in the box, to be fixed
    assert not Agent.objects.exists()


def test_pasted_text_that_is_not_json_says_where_it_breaks(alice: Client) -> None:
    page = alice.post(
        url("import_agent"), {"title": "Broken", "dsl": '{"components": {\n  "begin": }'}
    ).content.decode()
    assert "This is not valid JSON" in page and "line 2" in page
    assert not Agent.objects.exists()


def test_check_draws_a_valid_dsl_or_names_the_broken_component(
    alice: Client, walruses: Dataset
) -> None:
    dsl = qa_dsl(dataset_ids=[walruses.pk], llm_id="", prologue="Hi")
    page = alice.post(url("check_dsl"), {"dsl": json.dumps(dsl)}, headers=HTMX).content.decode()
    assert "The DSL is valid: 4 components." in page
    assert "<svg" in page and "Retrieval:Search" in page
    assert '<div id="dsl-errors" hx-swap-oob="true"></div>' in page  # clears a stale error

    dsl["components"]["Orphan:X"] = {"obj": {"component_name": "Message", "params": {}}}
    page = alice.post(url("check_dsl"), {"dsl": json.dumps(dsl)}, headers=HTMX).content.decode()
    error = escape("Invalid DSL: Component 'Orphan:X' is not reachable from begin.")
    # The error replaces the field's errors (out of band), where a failed save shows them.
    assert (
        f'<div id="dsl-errors" hx-swap-oob="true"><ul class="errorlist" role="alert"><li>{error}</li>'
        in page
    )
    assert "<svg" not in page
    assert not Agent.objects.exists()


# --- editing ----------------------------------------------------------------------------------


def test_edit_page_shows_pretty_json_and_a_diagram_of_every_component(
    alice: Client, agent: Agent
) -> None:
    page = alice.get(url("edit_agent", agent.pk)).content.decode()
    agent.refresh_from_db()
    text = json.dumps(in_graph_order(agent.dsl), indent=2, ensure_ascii=False)
    assert escape(text) in page
    assert json.loads(text) == agent.dsl
    # Listed as the graph reads, although jsonb sorts keys by length.
    order = [text.index(f'"{cpn_id}": {{') for cpn_id in ("begin", "Retrieval:Search")]
    order += [text.index(f'"{cpn_id}": {{') for cpn_id in ("LLM:Answer", "Message:Reply")]
    assert order == sorted(order)
    svg = page[page.index("<svg") : page.index("</svg>")]
    for cpn_id in agent.dsl["components"]:
        assert f'data-id="{cpn_id}"' in svg
        assert f">{cpn_id}</text>" in svg
    assert svg.count('class="diagram__edge"') == 3


def test_edit_saves_title_description_and_dsl(alice: Client, agent: Agent) -> None:
    dsl = dict(agent.dsl)
    dsl["components"]["begin"]["obj"]["params"]["prologue"] = "Welcome back."
    response = alice.post(
        url("edit_agent", agent.pk),
        {"title": "Walrus expert", "description": "Knows counts", "dsl": json.dumps(dsl)},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.title == "Walrus expert" and agent.description == "Knows counts"
    assert agent.dsl["components"]["begin"]["obj"]["params"]["prologue"] == "Welcome back."


def test_edit_with_an_invalid_dsl_shows_the_error_and_keeps_the_agent(
    alice: Client, agent: Agent
) -> None:
    dsl = json.loads(json.dumps(agent.dsl))
    dsl["components"]["Message:Reply"]["obj"]["params"]["content"] = ["{LLM:Gone@content}"]
    page = alice.post(
        url("edit_agent", agent.pk), {"title": "Renamed", "dsl": json.dumps(dsl)}
    ).content.decode()
    assert escape("Component 'Message:Reply' refers to unknown component 'LLM:Gone'.") in page
    agent.refresh_from_db()
    assert agent.title == "Walrus agent"
    assert agent.dsl["components"]["Message:Reply"]["obj"]["params"]["content"] == [
        "{LLM:Answer@content}"
    ]


def test_diagram_layers_components_and_labels_routing_edges(tenant: User) -> None:
    dsl = json.loads(
        json.dumps(
            {
                "components": {
                    "begin": {"obj": {"component_name": "Begin"}, "downstream": ["Switch:S"]},
                    "Switch:S": {
                        "obj": {
                            "component_name": "Switch",
                            "params": {
                                "conditions": [
                                    {
                                        "items": [
                                            {
                                                "cpn_id": "sys.query",
                                                "operator": "contains",
                                                "value": "refund",
                                            }
                                        ],
                                        "to": ["Message:Refund"],
                                    }
                                ],
                                "end_cpn_ids": ["Message:Other"],
                            },
                        },
                        "downstream": ["Message:Refund", "Message:Other"],
                    },
                    "Message:Refund": {"obj": {"component_name": "Message"}, "downstream": []},
                    "Message:Other": {"obj": {"component_name": "Message"}, "downstream": []},
                }
            }
        )
    )
    diagram = diagram_of(validate_dsl(dsl))
    assert diagram is not None
    x = {box.id: box.x for box in diagram.boxes}
    assert x["begin"] < x["Switch:S"] < x["Message:Refund"] == x["Message:Other"]
    labels = {(e.source, e.target): e.label for e in diagram.edges}
    assert labels[("Switch:S", "Message:Refund")] == "contains “refund”"
    assert labels[("Switch:S", "Message:Other")] == "else"
    assert labels[("begin", "Switch:S")] == ""
    assert all(box.y >= 0 and box.y + diagram.box_height <= diagram.height for box in diagram.boxes)


# --- conversations ----------------------------------------------------------------------------


def test_agent_page_invites_to_start_a_session_then_opens_it(alice: Client, agent: Agent) -> None:
    page = alice.get(url("agent_detail", agent.pk)).content.decode()
    assert "No sessions yet" in page and url("create_session", agent.pk) in page

    response = alice.post(url("create_session", agent.pk))
    session = AgentSession.objects.get(agent=agent)
    assert response["Location"] == url("session_detail", agent.pk, session.pk)
    assert session.user_id == str(agent.tenant.pk)

    assert alice.get(url("agent_detail", agent.pk))["Location"] == response["Location"]
    page = alice.get(response["Location"]).content.decode()
    assert "Ask me." in page  # the prologue
    assert f'data-socket-path="/ws/agents/{agent.pk}/sessions/{session.pk}/"' in page
    assert "No questions yet" in page


def test_stored_conversation_shows_citations_and_errors(alice: Client, agent: Agent) -> None:
    session = session_create(agent=agent, user_id="x")
    chunk = {
        "id": "c1",
        "content": WALRUS,
        "document_id": "d1",
        "document_name": "walrus.txt",
        "dataset_id": "k1",
    }
    session.messages += [
        {"role": "user", "content": "How many walruses?"},
        {"role": "assistant", "content": "It was 4312 animals [ID:3]. Dropped [ID:9]."},
        {"role": "user", "content": "And <b>seals</b>?"},
        {
            "role": "assistant",
            "content": "Partial**ERROR**: Component 'LLM:Answer' failed: model down",
        },
    ]
    session.references = [{"chunks": {"3": chunk}, "doc_aggs": {}}, {}]
    session.save()

    page = alice.get(url("session_detail", agent.pk, session.pk)).content.decode()
    assert "Ask me." in page
    assert "How many walruses?" in page and "And &lt;b&gt;seals&lt;/b&gt;?" in page
    # Numbered ①②③ in the order the reply cites, whatever the chunk's key.
    assert (
        '<span class="cite-hug">animals<sup class="cite"><button type="button" class="cite__button" '
        'aria-expanded="false" aria-controls="message-3-cite-3" aria-label="Source 1" '
        'data-cite="1">①</button></sup></span>'
    ) in page
    assert "[ID:" not in page  # markers become buttons, or go when their chunk is unknown
    assert 'id="message-3-cite-3" class="citation" hidden' in page
    assert WALRUS in page and "walrus.txt" in page
    assert reverse("knowledge:download_document", args=["k1", "d1"]) in page
    assert "message--error" in page
    assert escape("Component 'LLM:Answer' failed: model down") in page
    # The sidebar names the session after its first question.
    assert '<span class="session-item__name">How many walruses?</span>' in page


def test_delete_session_from_its_own_page_leaves_it(alice: Client, agent: Agent) -> None:
    first = session_create(agent=agent, user_id="x")
    second = session_create(agent=agent, user_id="x")
    page = url("session_detail", agent.pk, second.pk)

    response = alice.post(url("delete_session", agent.pk, first.pk), headers=htmx_from(page))
    assert response.status_code == 200 and response.content == b""
    response = alice.post(url("delete_session", agent.pk, second.pk), headers=htmx_from(page))
    assert response["HX-Redirect"] == url("agent_detail", agent.pk)
    assert not AgentSession.objects.exists()
    assert alice.get(page).status_code == 404
