"""The chat and agent websockets against what a clumsy or hostile client sends, and against a
1 MB chunk (issue 18, defects 6 and 8).

In process (Channels' communicator) for the consumers' answers; then against a live Daphne of
this module's own, whose peak memory (VmHWM) is read from /proc and whose log must hold no
traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from agents.models import AgentSession
from agents.services.agents import agent_create
from agents.services.agents import session_create as agent_session_create
from agents.templates_library import qa_dsl
from chat.llm.registry import BUILTIN_EXTRACTIVE
from chat.models import ChatSession
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create as chat_session_create
from knowledge.models import Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.accounts.services import api_key_create
from ragsite.routing import websocket_urlpatterns
from tests.conftest import ROOT, _stop, _wait_for_port, free_port, live_env
from tests.long_chunks import QUESTION, long_chunk_dataset, size

pytestmark = pytest.mark.django_db(transaction=True)

WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
WALRUS_QUESTION = "How many walruses were counted on Kolguev island?"


@dataclass
class Conversation:
    kind: str  # "chat" | "agent"
    path: str  # the socket's path
    session_id: str
    last: str  # the type of the last message of an answer

    def stored_messages(self) -> list[dict[str, Any]]:
        model = ChatSession if self.kind == "chat" else AgentSession
        return list(model.objects.get(pk=self.session_id).messages)


def conversation_for(kind: str, tenant: User, dataset_id: str) -> Conversation:
    if kind == "chat":
        name = f"c {ChatSession.objects.count()} {dataset_id}"
        chat = chat_create(tenant=tenant, changes=ChatChanges(name=name, dataset_ids=[dataset_id]))
        session = chat_session_create(chat=chat, name="s")
        return Conversation(kind, f"/ws/chat/{chat.pk}/sessions/{session.pk}/", session.pk, "final")
    dsl = qa_dsl(dataset_ids=[dataset_id], llm_id=BUILTIN_EXTRACTIVE, prologue="Ask me.")
    title = f"a {AgentSession.objects.count()} {dataset_id}"
    agent = agent_create(tenant=tenant, title=title, dsl=dsl)
    session = agent_session_create(agent=agent, user_id=str(tenant.pk))
    return Conversation(kind, f"/ws/agents/{agent.pk}/sessions/{session.pk}/", session.pk, "done")


def walrus_dataset(tenant: User) -> str:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    return str(dataset.pk)


@pytest.fixture(params=["chat", "agent"])
def talk(request: pytest.FixtureRequest, tenant: User) -> Conversation:
    return conversation_for(request.param, tenant, walrus_dataset(tenant))


def exchange(
    tenant: User, talk: Conversation, frames: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """Send each frame ({"text": ...} or {"bytes": ...}); collect the messages it brought, up to
    the end of an answer or of a refusal."""

    async def run() -> list[list[dict[str, Any]]]:
        socket = WebsocketCommunicator(URLRouter(websocket_urlpatterns), talk.path)
        socket.scope["user"] = tenant
        connected, _ = await socket.connect()
        assert connected
        replies = []
        for frame in frames:
            await socket.send_to(text_data=frame.get("text"), bytes_data=frame.get("bytes"))
            received = []
            while True:
                message = json.loads((await socket.receive_output(timeout=60))["text"])
                received.append(message)
                if message["type"] == talk.last or (
                    message["type"] == "error" and talk.last == "final"
                ):
                    break
            replies.append(received)
        await socket.disconnect()
        return replies

    return async_to_sync(run)()


def errors_in(messages: list[dict[str, Any]]) -> list[str]:
    return [m["message"] for m in messages if m["type"] == "error"]


def ask(question: str) -> dict[str, Any]:
    return {"text": json.dumps({"question": question})}


# --- in process ------------------------------------------------------------------------------------


def test_a_binary_frame_is_refused_and_the_socket_keeps_answering(
    tenant: User, talk: Conversation
) -> None:
    refused, answered = exchange(
        tenant, talk, [{"bytes": b"\x00\xff binary"}, ask(WALRUS_QUESTION)]
    )
    assert errors_in(refused) == ["Send questions as text messages."]
    assert not errors_in(answered) and "4312" in json.dumps(answered)
    assert len(talk.stored_messages()) == 3


def test_an_empty_or_broken_frame_is_refused(tenant: User, talk: Conversation) -> None:
    replies = exchange(tenant, talk, [{"text": " "}, {"text": "[" * 100_000 + "]"}, {"text": "{"}])
    assert [errors_in(r) for r in replies] == [
        ["Type a question first."],
        ["The question is too long: at most 8000 characters."],
        ["Type a question first."],
    ]
    assert len(talk.stored_messages()) == 1


def test_the_question_limit_is_the_setting(tenant: User, talk: Conversation, settings: Any) -> None:
    settings.RAGSITE_MAX_QUESTION_CHARS = 20
    too_long, frame_too_long, fits = exchange(
        tenant, talk, [ask("walrus " * 3), {"text": "x" * (6 * 20 + 1025)}, ask("walrus colony")]
    )
    assert errors_in(too_long) == ["The question is too long: at most 20 characters."]
    assert errors_in(frame_too_long) == ["The question is too long: at most 20 characters."]
    assert not errors_in(fits)
    assert [m["content"] for m in talk.stored_messages()][1] == "walrus colony"


def test_nul_and_lone_surrogates_are_cleaned_before_the_database(
    tenant: User, talk: Conversation
) -> None:
    # json.dumps spells them \u0000 and \ud800, as a browser or a script would.
    (answered,) = exchange(tenant, talk, [ask("How many walruses\u0000 on Kolguev?\ud800")])
    assert not errors_in(answered)
    stored = talk.stored_messages()
    assert stored[1]["content"] == "How many walruses on Kolguev?\ufffd"
    assert "4312" in stored[2]["content"]


# --- a live Daphne ---------------------------------------------------------------------------------


@dataclass
class Daphne:
    url: str
    pid: int
    log: Path

    def peak_rss_kib(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def daphne(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory, valkey_url: str
) -> Iterator[Daphne]:
    """Daphne serving ragsite.asgi on the test database, in a process of its own."""
    workdir = tmp_path_factory.mktemp("websocket-limits")
    port = free_port()
    log = workdir / "daphne.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "ragsite.asgi:application"],
            cwd=ROOT,
            env=live_env(workdir, valkey_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, proc, log)
        yield Daphne(f"127.0.0.1:{port}", proc.pid, log)
    finally:
        _stop(proc)


def open_socket(daphne: Daphne, tenant: User, talk: Conversation) -> ClientConnection:
    client = Client()
    client.force_login(tenant)
    cookie = client.cookies["sessionid"].value
    # The websockets client's own limit on a message is 1 MiB, as in the report.
    return connect(
        f"ws://{daphne.url}{talk.path}",
        origin=f"http://{daphne.url}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={cookie}"},
        max_size=2**20,
        open_timeout=30,
    )


def answer_over(socket: ClientConnection, talk: Conversation, question: str) -> list[str]:
    socket.send(json.dumps({"question": question}))
    frames: list[str] = []
    while True:
        frame = socket.recv(timeout=300)
        assert isinstance(frame, str)
        frames.append(frame)
        kind = json.loads(frame)["type"]
        if kind == talk.last or (kind == "error" and talk.last == "final"):
            return frames


def send_and_wait(socket: ClientConnection, text: str) -> None:
    socket.send(text)
    socket.recv(timeout=30)


def test_live_sockets_refuse_binary_and_oversized_frames_cleanly(
    daphne: Daphne, tenant: User, talk: Conversation
) -> None:
    with open_socket(daphne, tenant, talk) as socket:
        socket.send(b"\x00\xff binary")
        assert json.loads(socket.recv(timeout=30))["type"] == "error"
        if talk.kind == "agent":
            assert json.loads(socket.recv(timeout=30))["type"] == "done"
        socket.send("")
        assert json.loads(socket.recv(timeout=30)) == {
            "type": "error",
            "message": "Type a question first.",
        }
        if talk.kind == "agent":
            assert json.loads(socket.recv(timeout=30))["type"] == "done"
        socket.send("x" * 100_000)
        refusal = json.loads(socket.recv(timeout=30))
        assert refusal == {
            "type": "error",
            "message": "The question is too long: at most 8000 characters.",
        }
        if talk.kind == "agent":
            assert json.loads(socket.recv(timeout=30))["type"] == "done"
        frames = answer_over(socket, talk, WALRUS_QUESTION)
        assert "4312" in "".join(frames)
    # Above Daphne's 1 MiB message limit the server closes the connection (1009, message too
    # big, when the close frame gets through before the client has finished sending).
    with open_socket(daphne, tenant, talk) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            send_and_wait(socket, "x" * (2 * 2**20))
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
    with open_socket(daphne, tenant, talk) as socket:
        assert "4312" in "".join(answer_over(socket, talk, WALRUS_QUESTION))
    assert "Traceback" not in daphne.log.read_text(errors="replace")


def test_live_a_one_megabyte_chunk_streams_in_bounded_memory_and_bytes(
    daphne: Daphne, tenant: User, settings: Any
) -> None:
    quoted = settings.RAGSITE_MAX_QUOTED_CHUNK_CHARS
    key = api_key_create(user=tenant, name="tests")[1]
    headers = {"Authorization": f"Bearer {key}"}
    small = walrus_dataset(tenant)
    big = str(long_chunk_dataset(tenant, 1_000_000).pk)
    talks = {
        (kind, name): conversation_for(kind, tenant, dataset)
        for kind in ("chat", "agent")
        for name, dataset in (("small", small), ("big", big))
    }
    chats = {
        name: chat_create(tenant=tenant, changes=ChatChanges(name=name, dataset_ids=[dataset]))
        for name, dataset in (("small", small), ("big", big))
    }

    def sse(name: str) -> tuple[int, list[Any]]:
        chat = chats[name]
        session = chat_session_create(chat=chat, name="s")
        response = requests.post(
            f"http://{daphne.url}/api/v1/chats/{chat.pk}/completions",
            json={"question": QUESTION, "session_id": session.pk, "stream": True},
            headers=headers,
            stream=True,
            timeout=300,
        )
        raw = b"".join(response.iter_content(chunk_size=None))
        blocks = [b for b in raw.decode().split("\n\n") if b]
        return len(raw), [json.loads(b[len("data:") :]) for b in blocks]

    def openai(name: str) -> tuple[int, list[Any]]:
        response = requests.post(
            f"http://{daphne.url}/api/v1/chats_openai/{chats[name].pk}/chat/completions",
            json={
                "model": "m",
                "messages": [{"role": "user", "content": QUESTION}],
                "reference": True,
            },
            headers=headers,
            stream=True,
            timeout=300,
        )
        raw = b"".join(response.iter_content(chunk_size=None))
        blocks = [b for b in raw.decode().split("\n\n") if b and b != "data:[DONE]"]
        return len(raw), [json.loads(b[len("data:") :]) for b in blocks]

    def sockets(name: str) -> dict[str, list[str]]:
        frames = {}
        for kind in ("chat", "agent"):
            talk = talks[(kind, name)]
            with open_socket(daphne, tenant, talk) as socket:
                frames[kind] = answer_over(socket, talk, QUESTION)
        return frames

    # Everything once on a small chunk first: models loaded, caches warm.
    sse("small"), openai("small"), sockets("small")
    before = daphne.peak_rss_kib()

    sent, events = sse("big")
    final = events[-2]["data"]
    assert len(final["reference"]["chunks"][0]["content"]) == quoted
    assert sent <= 6 * (size(final["answer"]) + size(final["reference"])) + 16_384

    sent, chunks = openai("big")
    last = chunks[-1]["choices"][0]["delta"]
    assert len(last["reference"][0]["content"]) == quoted
    assert sent <= 6 * (size(last["final_content"]) + size(last["reference"])) + 16_384

    frames = sockets("big")
    final = json.loads(frames["chat"][-1])
    assert final["type"] == "final" and len(final["reference"]["chunks"][0]["content"]) == quoted
    payload = size(final["answer"]) + size(final["reference"])
    assert sum(len(f.encode()) for f in frames["chat"]) <= 6 * payload + 16_384
    agent = [json.loads(f) for f in frames["agent"]]
    assert [m["type"] for m in agent][-2:] == ["message_end", "done"]
    (chunk,) = agent[-2]["reference"]["chunks"].values()
    assert len(chunk["content"]) == quoted
    text = "".join(m["content"] for m in agent if m["type"] == "delta")
    payload = size(text) + size(agent[-2]["reference"])
    assert sum(len(f.encode()) for f in frames["agent"]) <= 6 * payload + 16_384

    # The megabyte is read from the database a few times over; no stream holds more than that.
    growth_mib = (daphne.peak_rss_kib() - before) / 1024
    assert growth_mib <= 160, growth_mib
    assert "Traceback" not in daphne.log.read_text(errors="replace")
