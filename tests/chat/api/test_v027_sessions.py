"""Chat sessions in both RAGFlow generations (v0.27 contract §2.6, R4, G5, G8).

`api` holds a v0.27 key (ragflow-sdk 0.27.3), `api22` a v0.22 key (ragflow-sdk 0.22.1).
"""

from __future__ import annotations

import pytest

from chat.models import ChatSession
from chat.services.sessions import new_message_id, session_record_turn
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok, body_of

NO_AUTHORIZATION = {
    "code": RetCode.AUTHENTICATION_ERROR,
    "message": "no authorization",
    "data": False,
}
REFERENCE = {
    "total": 1,
    "chunks": [
        {
            "id": "c1",
            "content": "walruses",
            "document_id": "d1",
            "document_name": "facts.txt",
            "dataset_id": "k1",
            "image_id": "",
            "positions": [],
            "similarity": 0.9,
        }
    ],
    "doc_aggs": [{"doc_name": "facts.txt", "doc_id": "d1", "count": 1}],
}


@pytest.fixture
def chat(api) -> dict:
    return assert_ok(api.post("/api/v1/chats", {"name": "x", "icon": "data:image/png;base64,AA"}))


def sessions_url(chat: dict) -> str:
    return f"/api/v1/chats/{chat['id']}/sessions"


def test_create_records_the_callers_tenant_only_for_v027(api, api22, chat, tenant) -> None:
    url = sessions_url(chat)
    v027 = assert_ok(api.post(url, {"name": "a"}))
    assert v027["user_id"] == tenant.pk and v027["reference"] == []
    assert v027["messages"] == [
        {"role": "assistant", "content": "Hi! I'm your assistant. What can I do for you?"}
    ]
    assert assert_ok(api22.post(url, {"name": "b"}))["user_id"] == ""
    assert assert_ok(api.post(url, {"name": "c", "user_id": "end-user"}))["user_id"] == "end-user"
    assert assert_ok(api.post(url, {}))["name"] == "New session"


def test_create_refusals_by_generation(api, api22, other_api, other_api22, chat) -> None:
    url = sessions_url(chat)
    assert body_of(other_api.post(url, {"name": "s"})) == NO_AUTHORIZATION
    assert_error(
        other_api22.post(url, {"name": "s"}), RetCode.DATA_ERROR, "You do not own the assistant."
    )
    assert body_of(api.post(url, {"name": " "}))["message"] == "`name` can not be empty"
    assert body_of(api22.post(url, {"name": " "}))["message"] == "`name` can not be empty."
    assert not ChatSession.objects.exists()


def test_sessions_carry_both_reference_shapes(api, chat) -> None:
    session = assert_ok(api.post(sessions_url(chat), {"name": "s"}))
    session_record_turn(
        session_id=session["id"],
        question="How many?",
        answer="4312 [ID:0]",
        reference=REFERENCE,
        message_id=new_message_id(),
    )
    (listed,) = assert_ok(api.get(sessions_url(chat)))
    one = assert_ok(api.get(f"{sessions_url(chat)}/{session['id']}"))
    for seen in (listed, one):
        assert seen["reference"] == [REFERENCE]  # v0.27: the stored list
        answer = seen["messages"][2]
        assert answer["role"] == "assistant" and answer["reference"][0]["id"] == "c1"  # v0.22
        assert seen["messages"][0]["reference"] == []
    assert one["avatar"] == "data:image/png;base64,AA" and "avatar" not in listed


def test_list_filters_by_user_id_and_stays_a_list(api, api22, chat) -> None:
    url = sessions_url(chat)
    assert_ok(api.post(url, {"name": "a", "user_id": "u1"}))
    assert_ok(api.post(url, {"name": "b", "user_id": "u2"}))
    for client in (api, api22):
        assert [s["name"] for s in assert_ok(client.get(url, {"user_id": "u2"}))] == ["b"]
    assert len(assert_ok(api.get(url, {"page_size": 0}))) == 2  # G8: 0 means 30
    assert assert_ok(api22.get(url, {"page_size": 0})) == []


def test_list_of_a_foreign_chat(other_api, other_api22, chat) -> None:
    assert body_of(other_api.get(sessions_url(chat))) == NO_AUTHORIZATION
    assert_error(
        other_api22.get(sessions_url(chat)),
        RetCode.DATA_ERROR,
        f"You don't own the assistant {chat['id']}.",
    )


def test_get_one_session_errors(api, chat) -> None:
    other = assert_ok(api.post("/api/v1/chats", {"name": "other"}))
    theirs = assert_ok(api.post(sessions_url(other), {"name": "s"}))
    assert_error(api.get(f"{sessions_url(chat)}/ghost"), RetCode.DATA_ERROR, "Session not found!")
    assert_error(
        api.get(f"{sessions_url(chat)}/{theirs['id']}"),
        RetCode.DATA_ERROR,
        "Session does not belong to this chat!",
    )


def test_patch_renames_and_returns_the_session(api, chat) -> None:
    session = assert_ok(api.post(sessions_url(chat), {"name": "s", "user_id": "u1"}))
    url = f"{sessions_url(chat)}/{session['id']}"
    patched = assert_ok(api.patch(url, {"name": "renamed", "user_id": "ignored", "id": "x"}))
    assert patched["id"] == session["id"] and patched["name"] == "renamed"
    assert patched["user_id"] == "u1"  # PATCH ignores user_id
    assert ChatSession.objects.get(pk=session["id"]).name == "renamed"


def test_put_stays_an_alias_that_may_reassign_the_user(api22, chat) -> None:
    session = assert_ok(api22.post(sessions_url(chat), {"name": "s"}))
    put = assert_ok(api22.put(f"{sessions_url(chat)}/{session['id']}", {"user_id": "u9"}))
    assert put["user_id"] == "u9" and put["name"] == "s"


@pytest.mark.parametrize(
    ("body", "v027", "v022"),
    [
        ({"name": ""}, "`name` can not be empty", "`name` can not be empty."),
        ({"messages": []}, "`messages` cannot be changed", "`message` can not be change"),
        ({"message": []}, "`messages` cannot be changed", "`message` can not be change"),
        ({"reference": []}, "`reference` cannot be changed", "`reference` can not be change"),
    ],
)
def test_update_refusals_in_each_generations_words(api, api22, chat, body, v027, v022) -> None:
    session = assert_ok(api.post(sessions_url(chat), {"name": "s"}))
    url = f"{sessions_url(chat)}/{session['id']}"
    assert body_of(api.patch(url, body))["message"] == v027
    assert body_of(api22.put(url, body))["message"] == v022
    assert ChatSession.objects.get(pk=session["id"]).name == "s"


def test_update_of_a_missing_session(api, api22, chat) -> None:
    assert_error(
        api.patch(f"{sessions_url(chat)}/ghost", {"name": "n"}),
        RetCode.DATA_ERROR,
        "Session not found!",
    )
    assert_error(
        api22.put(f"{sessions_url(chat)}/ghost", {"name": "n"}),
        RetCode.DATA_ERROR,
        "Session does not exist",
    )


def test_delete_as_ragflow_sdk_0273_sends_it(api, chat) -> None:
    url = sessions_url(chat)
    one, two = (assert_ok(api.post(url, {"name": n})) for n in ("one", "two"))
    assert body_of(api.delete(url, {"ids": [one["id"]], "delete_all": False})) == {
        "code": 0,
        "message": "success",
        "data": True,
    }
    assert [s["id"] for s in assert_ok(api.get(url))] == [two["id"]]
    assert assert_ok(api.delete(url, {"ids": None, "delete_all": False})) == {}
    assert assert_ok(api.delete(url)) == {}
    assert ChatSession.objects.count() == 1
    assert assert_ok(api.delete(url, {"delete_all": True})) is True
    assert not ChatSession.objects.exists()


def test_ids_null_without_delete_all_is_nothing_for_v027_and_all_for_v022(api, api22, chat) -> None:
    url = sessions_url(chat)
    assert_ok(api.post(url, {"name": "one"}))
    assert assert_ok(api.delete(url, {"ids": None})) == {}
    assert ChatSession.objects.count() == 1
    assert body_of(api22.delete(url, {"ids": None})) == {"code": 0}
    assert not ChatSession.objects.exists()


def test_delete_refusals(api, other_api, chat) -> None:
    url = sessions_url(chat)
    assert body_of(other_api.delete(url, {"ids": ["x"], "delete_all": False})) == NO_AUTHORIZATION
    assert_error(
        api.delete(url, {"ids": ["ghost"], "delete_all": False}),
        RetCode.DATA_ERROR,
        "The chat doesn't own the session ghost",
    )
    response = api.client.delete(
        url, data=b'{"ids": ["a",}', content_type="application/json", headers=api.headers
    )
    assert_error(
        response,
        RetCode.ARGUMENT_ERROR,
        "Malformed JSON syntax: Missing commas/brackets or invalid encoding",
    )
