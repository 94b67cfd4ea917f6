"""The chat services called directly with typed inputs (no HTTP, no request bodies)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from chat.llm import Message
from chat.llm.registry import BUILTIN_EXTRACTIVE
from chat.models import DEFAULT_LLM_SETTING, DEFAULT_SYSTEM_PROMPT, Chat, ChatSession
from chat.selectors import chat_get_owned_or_raise, chat_list, session_get_or_raise
from chat.services.assistants import ChatChanges, chat_create, chat_delete, chat_update
from chat.services.completions import (
    ChatTurn,
    Question,
    completion_events,
    completion_prepare,
    turn_prepare,
)
from chat.services.errors import WordedError
from chat.services.sessions import (
    SessionChanges,
    session_create,
    session_delete,
    session_update,
)
from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from ragsite.api.errors import DataError, ServiceError

pytestmark = pytest.mark.django_db

WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def chat(tenant: User, dataset: Dataset) -> Chat:
    return chat_create(tenant=tenant, changes=ChatChanges(name="walrus", dataset_ids=[dataset.pk]))


# --- assistants -----------------------------------------------------------------------------------


def test_chat_create_fills_what_the_changes_leave_out(tenant: User) -> None:
    chat = chat_create(tenant=tenant, changes=ChatChanges(name="  plain  "))
    assert chat.name == "plain" and chat.description == "A helpful Assistant"
    assert chat.llm_id == BUILTIN_EXTRACTIVE and chat.llm_setting == DEFAULT_LLM_SETTING
    assert chat.prompt_config["system"] == DEFAULT_SYSTEM_PROMPT
    assert chat.dataset_ids == [] and chat.top_n == 6 and chat.do_refer == "1"


def test_chat_create_replaces_instead_of_merging_when_asked(tenant: User) -> None:
    chat = chat_create(
        tenant=tenant,
        changes=ChatChanges(
            name="exact",
            llm_setting={"temperature": 0.5},
            prompt_config={"system": "Only {knowledge}", "parameters": []},
            merge=False,
        ),
    )
    assert chat.llm_setting == {"temperature": 0.5}
    assert chat.prompt_config == {"system": "Only {knowledge}", "parameters": []}


def test_chat_create_checks_prompt_variables_only_when_asked(tenant: User) -> None:
    config = {"system": "No slot", "parameters": [{"key": "who", "optional": False}]}
    with pytest.raises(DataError, match="Parameter 'who' is not used"):
        chat_create(tenant=tenant, changes=ChatChanges(name="strict", prompt_config=config))
    lax = chat_create(
        tenant=tenant,
        changes=ChatChanges(name="lax", prompt_config=config, check_parameters=False),
    )
    assert lax.prompt_config["parameters"] == config["parameters"]


@pytest.mark.parametrize(
    ("changes", "v022", "v027"),
    [
        (ChatChanges(name=" "), "`name` is required.", "`name` is required."),
        (
            ChatChanges(name="x", llm_id="gpt-x@Nowhere"),
            "`model_name` gpt-x@Nowhere doesn't exist",
            "`llm_id` gpt-x@Nowhere doesn't exist",
        ),
        (
            ChatChanges(name="x", rerank_id="ghost"),
            "`rerank_model` ghost doesn't exist",
            "`rerank_id` ghost doesn't exist",
        ),
        (
            ChatChanges(name="x", dataset_ids=["ghost"]),
            "You don't own the dataset ghost",
            "You don't own the dataset ghost",
        ),
    ],
)
def test_chat_create_refusals_carry_both_wordings(
    tenant: User, changes: ChatChanges, v022: str, v027: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        chat_create(tenant=tenant, changes=changes)
    assert caught.value.message == v022
    reworded = caught.value.as_v027() if isinstance(caught.value, WordedError) else caught.value
    assert reworded.message == v027
    assert not Chat.objects.exists()


def test_duplicate_names_are_refused_in_both_wordings(tenant: User, chat: Chat) -> None:
    with pytest.raises(WordedError) as caught:
        chat_create(tenant=tenant, changes=ChatChanges(name="WALRUS"))
    assert caught.value.message == "Duplicated chat name in creating chat."
    assert caught.value.as_v027().message == "duplicated chat name in creating chat"
    other = chat_create(tenant=tenant, changes=ChatChanges(name="other"))
    with pytest.raises(WordedError) as caught:
        chat_update(tenant=tenant, chat_id=other.pk, changes=ChatChanges(name="walrus"))
    assert caught.value.as_v027().message == "duplicated chat name"


def test_embedding_mismatch_is_109_in_v022_and_102_with_the_models_in_v027(
    tenant: User, dataset: Dataset
) -> None:
    other = dataset_create(tenant=tenant, name="other")
    Dataset.objects.filter(pk=other.pk).update(chunk_count=1, embedding_model="other-model@Builtin")
    with pytest.raises(WordedError) as caught:
        chat_create(
            tenant=tenant, changes=ChatChanges(name="mixed", dataset_ids=[dataset.pk, other.pk])
        )
    assert caught.value.code == RetCode.AUTHENTICATION_ERROR
    v027 = caught.value.as_v027()
    assert v027.code == RetCode.DATA_ERROR and "other-model@Builtin" in v027.message


def test_chat_update_merges_or_replaces_and_keeps_datasets_unless_given(
    tenant: User, chat: Chat, dataset: Dataset
) -> None:
    merged = chat_update(
        tenant=tenant,
        chat_id=chat.pk,
        changes=ChatChanges(llm_setting={"temperature": 0.9}, prompt_config={"prologue": "Hey"}),
    )
    assert merged.llm_setting == {**DEFAULT_LLM_SETTING, "temperature": 0.9}
    assert merged.prompt_config["prologue"] == "Hey"
    assert merged.prompt_config["system"] == DEFAULT_SYSTEM_PROMPT
    assert merged.dataset_ids == [dataset.pk]

    replaced = chat_update(
        tenant=tenant,
        chat_id=chat.pk,
        changes=ChatChanges(llm_setting={"top_p": 0.5}, merge=False, check_parameters=False),
    )
    assert replaced.llm_setting == {"top_p": 0.5}
    row = Chat.objects.get(pk=chat.pk)
    assert row.llm_setting == {"top_p": 0.5} and row.prompt_config["prologue"] == "Hey"

    cleared = chat_update(tenant=tenant, chat_id=chat.pk, changes=ChatChanges(dataset_ids=[]))
    assert cleared.dataset_ids == []


def test_chat_update_refuses_an_empty_name_and_a_foreign_chat(
    tenant: User, other_tenant: User, chat: Chat
) -> None:
    with pytest.raises(DataError, match="`name` cannot be empty."):
        chat_update(tenant=tenant, chat_id=chat.pk, changes=ChatChanges(name=""))
    with pytest.raises(WordedError) as caught:
        chat_update(tenant=other_tenant, chat_id=chat.pk, changes=ChatChanges(name="mine"))
    v027 = caught.value.as_v027()
    assert (v027.code, v027.message, v027.data) == (
        RetCode.AUTHENTICATION_ERROR,
        "no authorization",
        False,
    )
    assert Chat.objects.get(pk=chat.pk).name == "walrus"


def test_chat_delete_reports_duplicates_and_missing_in_order(tenant: User, chat: Chat) -> None:
    result = chat_delete(tenant=tenant, ids=[chat.pk, "ghost", chat.pk])
    assert result.deleted == 1
    assert result.problems == [("missing", "ghost"), ("duplicate", chat.pk)]
    assert Chat.objects.get(pk=chat.pk).status == "0"
    assert chat_delete(tenant=tenant, ids=[]).deleted == 0


def test_selectors_filter_by_keywords_and_owner(tenant: User, other_tenant: User) -> None:
    for name in ("Walrus facts", "Seal facts", "walrus diet"):
        chat_create(tenant=tenant, changes=ChatChanges(name=name))
    chat_create(tenant=other_tenant, changes=ChatChanges(name="Walrus elsewhere"))
    names = [
        c.name for c in chat_list(tenant=tenant, keywords="WALRUS", orderby="name", desc=False)
    ]
    assert names == ["Walrus facts", "walrus diet"]
    assert chat_list(tenant=tenant, owner_ids=[other_tenant.pk]).count() == 0
    assert chat_list(tenant=tenant, owner_ids=[tenant.pk, other_tenant.pk]).count() == 3
    # keywords give way to an exact name
    assert [c.name for c in chat_list(tenant=tenant, name="Seal facts", keywords="walrus")] == [
        "Seal facts"
    ]


def test_owned_or_raise_selectors(tenant: User, other_tenant: User, chat: Chat) -> None:
    assert chat_get_owned_or_raise(tenant, chat.pk) == chat
    with pytest.raises(WordedError, match="You do not own the chat"):
        chat_get_owned_or_raise(other_tenant, chat.pk)
    session = session_create(chat=chat)
    assert session_get_or_raise(chat, session.pk) == session
    with pytest.raises(WordedError) as caught:
        session_get_or_raise(chat, "ghost")
    assert caught.value.message == "Session does not exist"
    assert caught.value.as_v027().message == "Session not found!"


# --- sessions -------------------------------------------------------------------------------------


def test_session_update_writes_only_what_changes(chat: Chat) -> None:
    session = session_create(chat=chat, name="first", user_id="u1")
    renamed = session_update(chat=chat, session_id=session.pk, changes=SessionChanges(name="2nd"))
    assert (renamed.name, renamed.user_id) == ("2nd", "u1")
    moved = session_update(chat=chat, session_id=session.pk, changes=SessionChanges(user_id="u2"))
    assert (moved.name, moved.user_id) == ("2nd", "u2")
    with pytest.raises(WordedError) as caught:
        session_update(chat=chat, session_id=session.pk, changes=SessionChanges(name="  "))
    assert caught.value.as_v027().message == "`name` can not be empty"


def test_session_delete_reports_problems(chat: Chat) -> None:
    one, two = session_create(chat=chat), session_create(chat=chat)
    result = session_delete(chat=chat, ids=[one.pk, "ghost"])
    assert result.deleted == 1 and result.problems == [("missing", "ghost")]
    assert session_delete(chat=chat, ids=None).deleted == 1
    assert not ChatSession.objects.filter(pk__in=[one.pk, two.pk]).exists()


# --- completions ----------------------------------------------------------------------------------


def answer_of(prepared) -> str:
    async def run() -> str:
        last = None
        async for event in completion_events(prepared):
            last = event
        assert last is not None and last.error is None, last
        return last.answer

    return async_to_sync(run)()


def test_a_question_without_session_creates_one_and_only_opens_it(chat: Chat) -> None:
    prepared = completion_prepare(
        tenant=chat.tenant, chat_id=chat.pk, question=Question(text="ignored", session_name="n")
    )
    assert prepared.new_session is not None and prepared.new_session.name == "n"
    assert answer_of(prepared) == "Hi! I'm your assistant. What can I do for you?"


def test_a_question_in_a_session_is_answered_and_recorded(chat: Chat) -> None:
    session = session_create(chat=chat)
    prepared = completion_prepare(
        tenant=chat.tenant,
        chat_id=chat.pk,
        question=Question(text="How many walruses on Kolguev?", session_id=session.pk),
    )
    assert "4312" in answer_of(prepared)
    roles = [m["role"] for m in ChatSession.objects.get(pk=session.pk).messages]
    assert roles == ["assistant", "user", "assistant"]


def turn(text: str, **kwargs) -> ChatTurn:
    return ChatTurn(messages=[Message("user", text)], message_id="m" * 32, **kwargs)


def test_a_turn_without_a_chat_uses_the_default_model_and_stores_nothing(tenant: User) -> None:
    prepared = turn_prepare(tenant=tenant, turn=turn("hello"))
    assert prepared.chat_id is None and prepared.session_id is None and not prepared.record
    assert prepared.ctx.dataset_ids == [] and prepared.ctx.llm_id == BUILTIN_EXTRACTIVE
    assert answer_of(prepared)
    assert not ChatSession.objects.exists()


def test_a_turn_with_a_chat_and_no_session_creates_one_and_answers(chat: Chat) -> None:
    prepared = turn_prepare(
        tenant=chat.tenant, turn=turn("How many walruses on Kolguev?", chat_id=chat.pk)
    )
    assert prepared.session_id and prepared.new_session is None
    assert "4312" in answer_of(prepared)
    stored = ChatSession.objects.get(pk=prepared.session_id)
    assert [m["role"] for m in stored.messages] == ["assistant", "user", "assistant"]
    assert stored.messages[1]["id"] == "m" * 32


def test_a_turn_that_stores_nothing_must_bring_its_history(chat: Chat) -> None:
    with pytest.raises(DataError, match="`pass_all_history_messages` must be true"):
        turn_prepare(tenant=chat.tenant, turn=turn("q", chat_id=chat.pk, store_history=False))
    prepared = turn_prepare(
        tenant=chat.tenant,
        turn=ChatTurn(
            messages=[
                Message("user", "earlier"),
                Message("assistant", "said"),
                Message("user", "How many walruses on Kolguev?"),
            ],
            message_id="x",
            chat_id=chat.pk,
            store_history=False,
            pass_all_history=True,
        ),
    )
    assert prepared.session_id is None and [m.content for m in prepared.history] == [
        "earlier",
        "said",
    ]
    assert "4312" in answer_of(prepared)
    assert not ChatSession.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"session_id": "s"}, "`chat_id` is required when `session_id` is provided."),
        ({"llm_id": "ghost@Nowhere"}, "Cannot use specified model ghost@Nowhere."),
    ],
)
def test_turn_refusals(tenant: User, kwargs: dict, message: str) -> None:
    with pytest.raises(DataError, match=message.replace(".", r"\.")):
        turn_prepare(tenant=tenant, turn=turn("q", **kwargs))


def test_a_turn_in_a_session_of_another_chat_is_told_so(tenant: User, chat: Chat) -> None:
    other = chat_create(tenant=tenant, changes=ChatChanges(name="other"))
    session = session_create(chat=other)
    with pytest.raises(DataError, match="Session does not belong to this chat!"):
        turn_prepare(tenant=tenant, turn=turn("q", chat_id=chat.pk, session_id=session.pk))


def test_a_turn_overrides_the_model_settings_for_itself_only(chat: Chat) -> None:
    prepared = turn_prepare(
        tenant=chat.tenant,
        turn=turn("q", chat_id=chat.pk, llm_id=BUILTIN_EXTRACTIVE, llm_setting={"top_p": 0.9}),
    )
    assert prepared.ctx.llm_setting["top_p"] == 0.9
    assert Chat.objects.get(pk=chat.pk).llm_setting["top_p"] == DEFAULT_LLM_SETTING["top_p"]
