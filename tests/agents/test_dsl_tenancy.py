"""An agent's DSL may name only datasets its owner can search: checked when it is saved (API and
pages), the way the runtime checks them when it runs (knowledge.selectors.dataset_get_visible)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from agents.models import Agent
from agents.services.agents import agent_create
from chat.llm.registry import BUILTIN_EXTRACTIVE
from knowledge.models import Dataset
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.conftest import ApiClient
from tests.helpers import assert_error, body_of

pytestmark = pytest.mark.django_db


def dsl_with(*kb_ids: Any, **globals_: Any) -> dict[str, Any]:
    return {
        "components": {
            "begin": {
                "obj": {"component_name": "Begin", "params": {"prologue": "Hi"}},
                "downstream": ["Retrieval:Facts"],
                "upstream": [],
            },
            "Retrieval:Facts": {
                "obj": {
                    "component_name": "Retrieval",
                    "params": {"kb_ids": list(kb_ids), "query": "sys.query"},
                },
                "downstream": ["Message:Reply"],
                "upstream": ["begin"],
            },
            "Message:Reply": {
                "obj": {
                    "component_name": "Message",
                    "params": {"content": ["{Retrieval:Facts@formalized_content}"]},
                },
                "downstream": [],
                "upstream": ["Retrieval:Facts"],
            },
        },
        "globals": {"sys.query": "", **globals_},
    }


@pytest.fixture
def own(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="mine")


@pytest.fixture
def foreign(other_tenant: User) -> Dataset:
    return dataset_create(tenant=other_tenant, name="theirs")


def created(api: ApiClient, dsl: dict[str, Any], title: str = "a") -> dict[str, Any]:
    return body_of(api.post("/api/v1/agents", {"title": title, "dsl": dsl}))


# --- the API ----------------------------------------------------------------------------------


def test_create_refuses_another_tenants_dataset(
    api: ApiClient, own: Dataset, foreign: Dataset
) -> None:
    for kb_ids in ([foreign.pk], [own.pk, foreign.pk], [f"{own.pk},{foreign.pk}"]):
        body = created(api, dsl_with(*kb_ids))
        assert body["code"] == RetCode.DATA_ERROR, body
        assert body["message"] == f"You don't own the dataset {foreign.pk}.", body
    assert not Agent.objects.exists()


def test_create_refuses_a_dataset_that_does_not_exist(api: ApiClient) -> None:
    body = created(api, dsl_with("0" * 32))
    assert body["code"] == RetCode.DATA_ERROR
    assert body["message"] == f"You don't own the dataset {'0' * 32}."
    assert not Agent.objects.exists()


def test_create_refuses_a_foreign_dataset_behind_an_env_variable(
    api: ApiClient, foreign: Dataset
) -> None:
    body = created(api, dsl_with("{env.kb}", **{"env.kb": foreign.pk}))
    assert body["code"] == RetCode.DATA_ERROR
    assert body["message"] == f"You don't own the dataset {foreign.pk}."


def test_create_accepts_own_team_and_run_time_datasets(
    api: ApiClient, tenant: User, other_tenant: User, own: Dataset
) -> None:
    team = Group.objects.create(name="walrus team")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    shared = dataset_create(tenant=other_tenant, name="shared", permission=Dataset.Permission.TEAM)
    assert created(api, dsl_with(own.pk, shared.pk), "own and team")["code"] == 0
    # Chosen when the agent runs (a Begin input, a component's output): checked then.
    assert created(api, dsl_with("begin@kb", "{sys.query}"), "at run time")["code"] == 0
    assert created(api, dsl_with(""), "empty")["code"] == 0


def test_update_refuses_another_tenants_dataset_and_keeps_the_dsl(
    api: ApiClient, own: Dataset, foreign: Dataset
) -> None:
    assert created(api, dsl_with(own.pk))["code"] == 0
    agent = Agent.objects.get()
    before = copy.deepcopy(agent.dsl)
    assert_error(
        api.put(f"/api/v1/agents/{agent.pk}", {"title": "a", "dsl": dsl_with(foreign.pk)}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {foreign.pk}.",
    )
    agent.refresh_from_db()
    assert agent.dsl == before
    # A DSL sent as a JSON string is checked the same way.
    assert_error(
        api.put(f"/api/v1/agents/{agent.pk}", {"dsl": json.dumps(dsl_with(foreign.pk))}),
        RetCode.DATA_ERROR,
        f"You don't own the dataset {foreign.pk}.",
    )
    assert body_of(api.put(f"/api/v1/agents/{agent.pk}", {"title": "b"}))["code"] == 0


def test_the_service_refuses_it_for_every_caller(tenant: User, foreign: Dataset) -> None:
    from ragsite.api.errors import DataError

    with pytest.raises(DataError, match=f"You don't own the dataset {foreign.pk}."):
        agent_create(tenant=tenant, title="x", dsl=dsl_with(foreign.pk))


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


def test_pasted_dsl_with_another_tenants_dataset_is_refused_on_the_page(
    alice: Client, foreign: Dataset
) -> None:
    text = json.dumps(dsl_with(foreign.pk), indent=2)
    response = alice.post(reverse("agents:import_agent"), {"title": "Imported", "dsl": text})
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(f"The DSL names a knowledge base you cannot use: {foreign.pk}.") in page
    assert escape(text) in page  # the JSON stays in the box, to be fixed
    assert not Agent.objects.exists()


def test_editing_in_another_tenants_dataset_is_refused_on_the_page(
    alice: Client, tenant: User, own: Dataset, foreign: Dataset
) -> None:
    agent = agent_create(tenant=tenant, title="Mine", dsl=dsl_with(own.pk))
    response = alice.post(
        reverse("agents:edit_agent", args=[agent.pk]),
        {"title": "Mine", "description": "", "dsl": json.dumps(dsl_with(foreign.pk))},
    )
    assert response.status_code == 200
    assert escape(f"The DSL names a knowledge base you cannot use: {foreign.pk}.") in (
        response.content.decode()
    )
    agent.refresh_from_db()
    assert agent.dsl["components"]["Retrieval:Facts"]["obj"]["params"]["kb_ids"] == [own.pk]


def test_template_form_offers_only_visible_datasets(alice: Client, foreign: Dataset) -> None:
    response = alice.post(
        reverse("agents:create_from_template", args=["qa"]),
        {
            "title": "QA",
            "description": "",
            "dataset_ids": [foreign.pk],
            "llm_id": BUILTIN_EXTRACTIVE,
            "prologue": "Hi",
        },
    )
    # The template builds its DSL only from the form's choices: the user's visible datasets.
    assert response.status_code == 200 and not Agent.objects.exists()
