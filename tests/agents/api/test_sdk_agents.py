"""Agents through each official client against Daphne: ragflow-sdk 0.22.1 (project venv, a v0.22
key) and ragflow-sdk 0.27.3 (the Python 3.13 venv tests/sdk_clients.py builds, a v0.27 key).

Each runs the same script as a subprocess: create, find, get and update an agent, create a
session, ask it streamed and not, list and delete sessions, delete the agent. The script prints
one JSON line of what it saw; the test checks that and the database.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from agents.models import Agent, AgentSession
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from tests.agents.api.dsls import echo_dsl
from tests.sdk_clients import SDK22, SDK27, SdkClient, SdkUnavailable, sdk22_client, sdk27_client

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCRIPT = r"""
import inspect, json, os
from ragflow_sdk import RAGFlow

rag = RAGFlow(api_key=os.environ["KEY"], base_url=os.environ["URL"])
dsl = json.loads(os.environ["DSL"])
seen = {}
title = "sdk echo"
assert rag.create_agent(title=title, dsl=dsl, description="round trip") is None
if "title" in inspect.signature(rag.list_agents).parameters:  # ragflow-sdk 0.22
    (agent,) = rag.list_agents(title=title)
else:  # ragflow-sdk 0.27 lists pages only, and gets one agent
    (agent,) = [a for a in rag.list_agents(page_size=100) if a.title == title]
    seen["got_title"] = rag.get_agent(agent.id).title
seen["agent_id"] = agent.id
rag.update_agent(agent.id, description="updated", dsl=dsl)
session = agent.create_session()
seen["session_id"] = session.id
streamed = list(session.ask("walrus 4312", stream=True))
seen["streamed"] = "".join(m.content for m in streamed)
(plain,) = list(session.ask("again", stream=False))
seen["plain"] = plain.content
seen["listed"] = [s.id for s in agent.list_sessions()]
second = agent.create_session()
agent.delete_sessions(ids=[session.id])
seen["after_delete"] = [s.id for s in agent.list_sessions()]
if "delete_all" in inspect.signature(agent.delete_sessions).parameters:  # ragflow-sdk 0.27
    agent.delete_sessions()  # G5: sends ids null without delete_all: deletes nothing
    seen["after_bare_delete"] = [s.id for s in agent.list_sessions()]
    agent.delete_sessions(delete_all=True)
else:
    agent.delete_sessions()  # ids null: every session
seen["after_delete_all"] = [s.id for s in agent.list_sessions()]
seen["second"] = second.id
rag.delete_agent(agent.id)
seen["agents_left"] = [a.id for a in rag.list_agents(page_size=100)]
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def clients() -> dict[str, SdkClient | str]:
    found: dict[str, SdkClient | str] = {}
    for sdk, make in ((SDK22, sdk22_client), (SDK27, sdk27_client)):
        try:
            found[sdk] = make()
        except SdkUnavailable as exc:
            found[sdk] = str(exc)
    return found


@pytest.mark.parametrize("sdk", [SDK22, SDK27])
def test_agent_round_trip(
    sdk: str, clients: dict[str, SdkClient | str], live_server_url: str
) -> None:
    client = clients[sdk]
    if isinstance(client, str):
        pytest.skip(client)
    user = User.objects.create_user(f"sdk-agents-{sdk}", password="sdk-password-1")
    key = api_key_create(user=user, generation=client.generation)[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env.pop("VIRTUAL_ENV", None)
    env.update(KEY=key, URL=live_server_url, DSL=json.dumps(echo_dsl()))
    done = subprocess.run(
        [str(client.python), "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"ragflow-sdk {sdk}:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["streamed"] == "You said: walrus 4312"
    assert seen["plain"] == "You said: again"
    assert seen["session_id"] in seen["listed"]
    assert seen["after_delete"] == [seen["second"]]
    if sdk == SDK27:
        assert seen["got_title"] == "sdk echo"
        assert seen["after_bare_delete"] == [seen["second"]]
    assert seen["after_delete_all"] == [] and seen["agents_left"] == []
    assert not Agent.objects.filter(tenant=user).exists()
    # The two questions were recorded in the first session before it was deleted; the
    # sessions stay deleted.
    assert not AgentSession.objects.filter(tenant=user).exists()
