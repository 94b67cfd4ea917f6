"""Writes that race keep each other's changes: turns recorded while a session is renamed, and
settings of one assistant changed field by field at the same moment.

These run for real in parallel: each thread has its own PostgreSQL connection and commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create, chat_update
from chat.services.sessions import (
    SessionChanges,
    new_message_id,
    session_create,
    session_record_turn,
    session_update,
)
from ragsite.accounts.models import User
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERERS = 10
TURNS_EACH = 8
RENAMERS = 3
RENAMES_EACH = 25
ROUNDS = 12


@pytest.fixture
def tenant() -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def chat(tenant: User) -> Chat:
    return chat_create(tenant=tenant, changes=ChatChanges(name="racing"))


def test_turns_survive_renames_and_settings_changes(tenant: User, chat: Chat) -> None:
    session = session_create(chat=chat, name="first")
    renames = [f"name {r}-{i}" for r in range(RENAMERS) for i in range(RENAMES_EACH)]

    def answer(worker: int) -> Callable[[], None]:
        def work() -> None:
            for turn in range(TURNS_EACH):
                session_record_turn(
                    session_id=session.pk,
                    question=f"question {worker}-{turn}",
                    answer=f"answer {worker}-{turn}",
                    reference={"chunks": [], "doc_aggs": [], "total": 0},
                    message_id=new_message_id(),
                )

        return work

    def rename(worker: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(RENAMES_EACH):
                session_update(
                    chat=chat,
                    session_id=session.pk,
                    changes=SessionChanges(name=f"name {worker}-{i}"),
                )

        return work

    def settings() -> None:
        for i in range(RENAMES_EACH):
            chat_update(
                tenant=tenant,
                chat_id=chat.pk,
                changes=ChatChanges(prompt_config={"prologue": f"Hello {i}"}),
            )

    run_together(
        [answer(w) for w in range(ANSWERERS)] + [rename(w) for w in range(RENAMERS)] + [settings]
    )

    stored = ChatSession.objects.get(pk=session.pk)
    questions = [m["content"] for m in stored.messages if m["role"] == "user"]
    expected = {f"question {w}-{t}" for w in range(ANSWERERS) for t in range(TURNS_EACH)}
    assert len(questions) == len(expected), (
        f"{len(expected) - len(questions)} of {len(expected)} turns lost"
    )
    assert set(questions) == expected
    assert len(stored.messages) == 1 + 2 * len(expected)  # the opener, then each turn
    assert len(stored.references) == len(expected)
    assert stored.name in renames
    assert Chat.objects.get(pk=chat.pk).prompt_config["prologue"] == f"Hello {RENAMES_EACH - 1}"


def test_concurrent_setting_changes_of_one_assistant_all_survive(tenant: User, chat: Chat) -> None:
    """Each worker changes its own field, round after round; after every round all are there."""
    changes: dict[str, Callable[[int], ChatChanges]] = {
        "name": lambda r: ChatChanges(name=f"racing {r}"),
        "description": lambda r: ChatChanges(description=f"about {r}"),
        "temperature": lambda r: ChatChanges(llm_setting={"temperature": r / 100}),
        "opener": lambda r: ChatChanges(prompt_config={"prologue": f"Hi {r}"}),
        "empty_response": lambda r: ChatChanges(prompt_config={"empty_response": f"Nothing {r}"}),
        "top_n": lambda r: ChatChanges(top_n=r + 1),
    }
    round_end = threading.Barrier(len(changes) + 1, timeout=300)
    lost: list[str] = []

    def changer(key: str) -> Callable[[], None]:
        def work() -> None:
            for r in range(ROUNDS):
                chat_update(tenant=tenant, chat_id=chat.pk, changes=changes[key](r))
                round_end.wait()  # the checker looks
                round_end.wait()  # and lets the next round start

        return work

    def checker() -> None:
        for r in range(ROUNDS):
            round_end.wait()
            row = Chat.objects.get(pk=chat.pk)
            found = {
                "name": row.name == f"racing {r}",
                "description": row.description == f"about {r}",
                "temperature": row.llm_setting.get("temperature") == r / 100,
                "opener": row.prompt_config.get("prologue") == f"Hi {r}",
                "empty_response": row.prompt_config.get("empty_response") == f"Nothing {r}",
                "top_n": row.top_n == r + 1,
            }
            lost.extend(f"round {r}: {key}" for key, kept in found.items() if not kept)
            round_end.wait()

    run_together([changer(key) for key in changes] + [checker])
    assert lost == []
    row = Chat.objects.get(pk=chat.pk)
    assert row.status == "1" and row.llm_setting["max_tokens"] == 512  # untouched keys stay


def test_an_update_racing_a_delete_does_not_bring_the_assistant_back(
    tenant: User, chat: Chat
) -> None:
    """A settings change that read the assistant before it was deleted must not undelete it."""
    from chat.services.assistants import chat_delete
    from ragsite.api.errors import ServiceError

    def update() -> None:
        for i in range(40):
            try:
                chat_update(
                    tenant=tenant, chat_id=chat.pk, changes=ChatChanges(description=f"d{i}")
                )
            except ServiceError:
                return  # deleted: "You do not own the chat"

    def delete() -> None:
        chat_delete(tenant=tenant, ids=[chat.pk])

    run_together([update, update, delete])
    assert Chat.objects.get(pk=chat.pk).status == "0"
