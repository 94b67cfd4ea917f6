"""What a clumsy or hostile client sends: broken JSON never deletes, text PostgreSQL refuses is
cleaned at the boundary, limits answer clear errors, and no answer carries exception text."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from chat.models import Chat, ChatSession
from knowledge.models import Chunk, Document
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.conftest import ApiClient
from tests.helpers import assert_error, assert_ok, body_of
from tests.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant: User) -> World:
    return World(tenant)


def _raw(api: ApiClient, method: str, path: str, raw: str | bytes) -> Any:
    return getattr(api.client, method)(
        path, data=raw, content_type="application/json", headers=api.headers
    )


def test_a_trailing_comma_on_any_bulk_delete_deletes_nothing(api: ApiClient, world: World) -> None:
    before = world.counts()
    for route, key, one_id in world.bulk_deletes():
        response = _raw(api, "delete", route, f'{{"{key}": ["{one_id}",]}}')
        assert_error(response, RetCode.ARGUMENT_ERROR, "Malformed JSON")
        assert world.counts() == before, route


@pytest.mark.parametrize("raw", ["", "{}", '{"other": 1}', '{"ids": []}', '{"delete_all": false}'])
def test_a_bulk_delete_without_an_explicit_all_deletes_nothing(
    api: ApiClient, world: World, raw: str
) -> None:
    before = world.counts()
    for route, key, _ in world.bulk_deletes():
        body = raw.replace('"ids"', f'"{key}"')
        response = _raw(api, "delete", route, body)
        assert body_of(response)["code"] != RetCode.EXCEPTION_ERROR, (route, response.json())
        assert world.counts() == before, (route, body)


def test_delete_all_takes_an_explicit_null_or_delete_all_true(
    api: ApiClient, api22: ApiClient, world: World
) -> None:
    chats = f"/api/v1/chats/{world.chats[0].pk}/sessions"
    assert_ok(api22.delete(chats, {"ids": None}))  # `ids: null` means all for v0.22 only (G5)
    assert ChatSession.objects.count() == 0
    assert_ok(api.delete("/api/v1/chats", {"delete_all": True}))
    assert Chat.objects.filter(status="1").count() == 0
    route = f"/api/v1/datasets/{world.dataset.pk}/documents/{world.documents[0].pk}/chunks"
    assert_error(
        api.delete(route, {"chunk_ids": [world.chunks[0].pk], "delete_all": True}),
        RetCode.ARGUMENT_ERROR,
        "not both",
    )
    assert Chunk.objects.count() == 3
    assert_ok(api.delete(route, {"delete_all": True}))
    assert Chunk.objects.count() == 0


def test_bodies_that_are_not_objects_are_refused_without_side_effects(
    api: ApiClient, world: World
) -> None:
    chat = world.chats[0]
    before = world.counts()
    for raw in ("[1, 2]", '"text"', "3"):
        assert_error(
            _raw(api, "post", f"/api/v1/chats/{chat.pk}/sessions", raw), RetCode.ARGUMENT_ERROR
        )
        assert_error(
            _raw(api, "post", f"/api/v1/chats/{chat.pk}/completions", raw),
            RetCode.ARGUMENT_ERROR,
        )
        assert_error(_raw(api, "post", "/api/v1/chats", raw), RetCode.ARGUMENT_ERROR)
    assert world.counts() == before


def test_broken_json_on_a_completion_creates_no_session(api: ApiClient, world: World) -> None:
    chat = world.chats[0]
    before = world.counts()
    response = _raw(api, "post", f"/api/v1/chats/{chat.pk}/completions", '{"question": "hi",}')
    assert_error(response, RetCode.ARGUMENT_ERROR, "Malformed JSON")
    assert world.counts() == before


def test_deep_nesting_is_refused_plainly(api: ApiClient, world: World) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    message = assert_error(_raw(api, "post", "/api/v1/chats", deep), RetCode.ARGUMENT_ERROR)
    assert "nested too deeply" in message
    nested = '{"name": "n", "x": ' + "[" * 70 + "]" * 70 + "}"
    assert_error(_raw(api, "post", "/api/v1/chats", nested), RetCode.ARGUMENT_ERROR, "nested")


def test_nul_and_lone_surrogates_are_cleaned_wherever_text_enters(
    api: ApiClient, world: World
) -> None:
    data = assert_ok(_raw(api, "post", "/api/v1/chats", '{"name": "riv\\u0000ers \\ud800"}'))
    assert data["name"] == "rivers \ufffd"
    chat = world.chats[0]
    session = assert_ok(
        _raw(api, "post", f"/api/v1/chats/{chat.pk}/sessions", '{"name": "a\\u0000b"}')
    )
    assert session["name"] == "ab"
    assert_ok(
        _raw(
            api,
            "put",
            f"/api/v1/chats/{chat.pk}/sessions/{session['id']}",
            '{"name": "\\udfffc\\u0000d"}',
        )
    )
    assert ChatSession.objects.get(pk=session["id"]).name == "\ufffdcd"
    document = world.documents[0]
    route = f"/api/v1/datasets/{world.dataset.pk}/documents/{document.pk}/chunks"
    added = assert_ok(_raw(api, "post", route, '{"content": "Walruses\\u0000 dive deep."}'))
    assert added["chunk"]["content"] == "Walruses dive deep."
    # Query strings and path segments too.
    assert_ok(api.get("/api/v1/chats", {"name": "Chat 1\x00"}))
    response = api.get(f"/api/v1/chats/{chat.pk}%00/sessions")
    assert body_of(response)["code"] != RetCode.EXCEPTION_ERROR
    # Retrieval with a NUL in the question answers normally.
    data = assert_ok(
        _raw(
            api,
            "post",
            "/api/v1/retrieval",
            f'{{"question": "walrus\\u0000 colony", "dataset_ids": ["{world.dataset.pk}"]}}',
        )
    )
    assert data["chunks"]


def test_a_nul_in_a_question_still_records_the_turn(api: ApiClient, world: World) -> None:
    chat = world.chats[0]
    session = world.sessions[0]
    response = _raw(
        api,
        "post",
        f"/api/v1/chats/{chat.pk}/completions",
        f'{{"question": "rivers\\u0000", "session_id": "{session.pk}", "stream": false}}',
    )
    data = assert_ok(response)
    assert "ERROR" not in data["answer"]
    session.refresh_from_db()
    assert session.messages[-2]["content"] == "rivers"


def test_limits_answer_clear_errors(api: ApiClient, world: World) -> None:
    ds, doc = world.dataset.pk, world.documents[0].pk
    too_long = "x" * (settings.RAGSITE_MAX_NAME_CHARS + 1)
    assert_error(api.post("/api/v1/chats", {"name": too_long}), RetCode.ARGUMENT_ERROR, "too long")
    assert_error(
        api.put(f"/api/v1/chats/{world.chats[0].pk}", {"name": too_long}),
        RetCode.ARGUMENT_ERROR,
        "too long",
    )
    assert_error(
        api.post(f"/api/v1/chats/{world.chats[0].pk}/sessions", {"name": too_long}),
        RetCode.ARGUMENT_ERROR,
        "too long",
    )
    assert_error(
        api.post("/api/v1/agents", {"title": too_long, "dsl": world.agent.dsl}),
        RetCode.ARGUMENT_ERROR,
        "too long",
    )
    big_chunk = "word " * (settings.RAGSITE_MAX_CHUNK_CHARS // 5 + 1)
    assert_error(
        api.post(f"/api/v1/datasets/{ds}/documents/{doc}/chunks", {"content": big_chunk}),
        RetCode.ARGUMENT_ERROR,
        "too long",
    )
    question = "walrus " * (settings.RAGSITE_MAX_QUESTION_CHARS // 7 + 1)
    assert_error(
        api.post("/api/v1/retrieval", {"question": question, "dataset_ids": [ds]}),
        RetCode.ARGUMENT_ERROR,
        "too long",
    )
    for params in ({"page": 10**30}, {"page_size": 10**9}, {"page": "x"}):
        for route in (
            "/api/v1/chats",
            "/api/v1/agents",
            f"/api/v1/datasets/{ds}/documents",
            f"/api/v1/datasets/{ds}/documents/{doc}/chunks",
            f"/api/v1/chats/{world.chats[0].pk}/sessions",
        ):
            message = assert_error(api.get(route, params), RetCode.ARGUMENT_ERROR)
            assert "page" in message, (route, params, message)


def test_wrong_types_are_worded_for_people(api: ApiClient, world: World) -> None:
    ds, doc = world.dataset.pk, world.documents[0]
    message = assert_error(
        api.put(f"/api/v1/datasets/{ds}/documents/{doc.pk}", {"name": 123}),
        RetCode.ARGUMENT_ERROR,
    )
    assert "Error" not in message and "`name`" in message
    message = assert_error(
        api.post(
            f"/api/v1/datasets/{ds}/documents/{doc.pk}/chunks",
            {"content": "x y z", "important_keywords": [1]},
        ),
        RetCode.DATA_ERROR,
    )
    assert "TypeError" not in message
    message = assert_error(
        api.post("/api/v1/retrieval", {"question": "q", "dataset_ids": [ds], "top_k": "many"}),
        RetCode.ARGUMENT_ERROR,
    )
    assert message == "`top_k` should be an integer."


def test_too_many_files_in_one_upload_is_a_clear_error_and_batches_work(
    api: ApiClient, world: World
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    route = f"/api/v1/datasets/{world.dataset.pk}/documents"
    limit = settings.RAGSITE_MAX_UPLOAD_FILES

    def files(start: int, count: int) -> list[SimpleUploadedFile]:
        return [
            SimpleUploadedFile(f"f{i}.txt", f"note {i}".encode(), content_type="text/plain")
            for i in range(start, start + count)
        ]

    before = Document.objects.count()
    response = api.client.post(route, {"file": files(0, limit + 50)}, headers=api.headers)
    message = assert_error(response, RetCode.ARGUMENT_ERROR, "Too many files")
    assert "batches" in message
    assert Document.objects.count() == before
    # 1,000 files in batches, as RAGFlow's clients send them.
    for start in range(0, 1000, limit):
        uploaded = assert_ok(
            api.client.post(route, {"file": files(start, limit)}, headers=api.headers)
        )
        assert len(uploaded) == limit
    assert Document.objects.count() == before + 1000
