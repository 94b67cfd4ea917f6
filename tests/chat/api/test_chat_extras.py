"""Chat extras (RAGFlow v0.27 contract §3.7) on literal paths: message delete and feedback,
related questions, the mind map, and the audio routes.

Related questions and mind maps are asked of a small local server speaking the OpenAI protocol
when a provider is configured, and built from the found chunks with the built-in model.
"""

from __future__ import annotations

import pytest

from chat.models import ChatSession
from chat.services.sessions import new_message_id, session_record_turn
from knowledge.models import Dataset, Document, ModelProvider
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.chat.llm.test_openai_compat import FakeService, service, sse_reply  # noqa: F401
from tests.helpers import assert_error, assert_ok, body_of

NO_AUTHORIZATION = {
    "code": RetCode.AUTHENTICATION_ERROR,
    "message": "no authorization",
    "data": False,
}
REFERENCE = {"total": 1, "chunks": [{"id": "c1", "content": "x", "document_id": "d1"}]}


@pytest.fixture
def chat(api) -> dict:
    return assert_ok(api.post("/api/v1/chats", {"name": "c"}))


@pytest.fixture
def turns(api, chat) -> tuple[str, list[str]]:
    """A session with three recorded turns; (session id, message ids)."""
    session = assert_ok(api.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))
    ids = []
    for number in range(3):
        ids.append(new_message_id())
        session_record_turn(
            session_id=session["id"],
            question=f"question {number}",
            answer=f"answer {number}",
            reference={**REFERENCE, "total": number},
            message_id=ids[-1],
        )
    return session["id"], ids


def message_url(chat: dict, session_id: str, msg_id: str) -> str:
    return f"/api/v1/chats/{chat['id']}/sessions/{session_id}/messages/{msg_id}"


# --- delete a message -------------------------------------------------------------------------


def test_delete_removes_the_question_its_answer_and_its_reference(api, chat, turns) -> None:
    session_id, ids = turns
    body = body_of(api.delete(message_url(chat, session_id, ids[1])))
    assert body["code"] == 0 and body["message"] == "success"
    data = body["data"]
    assert data["id"] == session_id and data["chat_id"] == chat["id"]
    contents = [m["content"] for m in data["messages"][1:]]
    assert contents == ["question 0", "answer 0", "question 2", "answer 2"]
    assert [r["total"] for r in data["reference"]] == [0, 2]
    stored = ChatSession.objects.get(pk=session_id)
    assert len(stored.messages) == 5 and [r["total"] for r in stored.references] == [0, 2]


def test_delete_of_an_unknown_message_changes_nothing(api, chat, turns) -> None:
    session_id, _ = turns
    data = assert_ok(api.delete(message_url(chat, session_id, "no-such-message")))
    assert len(data["messages"]) == 7 and len(data["reference"]) == 3


def test_delete_refuses_foreign_chats_and_sessions(api, other_api, chat, turns) -> None:
    session_id, ids = turns
    assert body_of(other_api.delete(message_url(chat, session_id, ids[0]))) == NO_AUTHORIZATION
    other_chat = assert_ok(api.post("/api/v1/chats", {"name": "other"}))
    response = api.delete(message_url(other_chat, session_id, ids[0]))
    assert body_of(response) == {"code": RetCode.DATA_ERROR, "message": "Session not found!"}
    theirs = assert_ok(other_api.post("/api/v1/chats", {"name": "theirs"}))
    assert body_of(api.delete(message_url(theirs, session_id, ids[0]))) == NO_AUTHORIZATION
    assert len(ChatSession.objects.get(pk=session_id).messages) == 7


# --- feedback ---------------------------------------------------------------------------------


def test_thumbs_down_keeps_the_text_and_thumbs_up_drops_it(api, chat, turns) -> None:
    session_id, ids = turns
    url = message_url(chat, session_id, ids[0]) + "/feedback"
    data = assert_ok(api.put(url, {"thumbup": False, "feedback": "Missed the source."}))
    question, answer = data["messages"][1:3]
    assert "thumbup" not in question  # only the answer carries feedback
    assert answer["thumbup"] is False and answer["feedback"] == "Missed the source."
    data = assert_ok(api.put(url, {"thumbup": True, "feedback": "ignored"}))
    answer = data["messages"][2]
    assert answer["thumbup"] is True and "feedback" not in answer
    stored = ChatSession.objects.get(pk=session_id).messages[2]
    assert stored["thumbup"] is True and "feedback" not in stored


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "thumbup must be a boolean"),
        ({"thumbup": "true"}, "thumbup must be a boolean"),
        ({"thumbup": 1}, "thumbup must be a boolean"),
        ({"thumbup": False, "feedback": 3}, "feedback must be a string"),
    ],
)
def test_feedback_bad_input(api, chat, turns, body, message) -> None:
    session_id, ids = turns
    url = message_url(chat, session_id, ids[0]) + "/feedback"
    assert body_of(api.put(url, body)) == {"code": RetCode.DATA_ERROR, "message": message}
    assert "thumbup" not in ChatSession.objects.get(pk=session_id).messages[2]


def test_feedback_refuses_foreign_chats_and_sessions(api, other_api, chat, turns) -> None:
    session_id, ids = turns
    url = message_url(chat, session_id, ids[0]) + "/feedback"
    assert body_of(other_api.put(url, {"thumbup": True})) == NO_AUTHORIZATION
    other_chat = assert_ok(api.post("/api/v1/chats", {"name": "other"}))
    response = api.put(message_url(other_chat, session_id, ids[0]) + "/feedback", {"thumbup": True})
    assert body_of(response) == {"code": RetCode.DATA_ERROR, "message": "Session not found!"}
    assert "thumbup" not in ChatSession.objects.get(pk=session_id).messages[2]


# --- related questions and mind maps with the built-in model ------------------------------------


@pytest.fixture
def handbook(tenant: User) -> Dataset:
    """A dataset whose chunks carry headings and stored questions."""
    dataset = dataset_create(tenant=tenant, name="handbook")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.md", type="doc", suffix="md"
    )
    chunk_add(
        document=document,
        content="Walruses > Counting\nThe walrus colony on Kolguev island was counted at 4312 "
        "animals in 2019. Counts use aerial photographs.",
        questions=["How are walruses counted from the air?"],
        important_keywords=["aerial survey"],
    )
    chunk_add(
        document=document,
        content="# Walruses\n## Diet\nWalruses on Kolguev island eat clams. They dive for them.",
    )
    dataset.refresh_from_db()
    return dataset


def search_with(api, dataset: Dataset, **config) -> str:
    body = {"name": "s", "search_config": {"kb_ids": [dataset.pk], **config}}
    return assert_ok(api.post("/api/v1/searches", body))["search_id"]


QUESTION = "How many walruses live on Kolguev island?"


def test_related_questions_offline_come_from_the_found_chunks(api, handbook) -> None:
    search_id = search_with(api, handbook, similarity_threshold=0.0)
    for path in ("/api/v1/chat/recommendation", "/api/v1/chat/recommandation"):
        body = body_of(api.post(path, {"question": QUESTION, "search_id": search_id}))
        assert body["code"] == 0 and body["message"] == "success"
        related = body["data"]
        assert related[0] == "How are walruses counted from the air?"
        assert {"Counting", "Diet", "Walruses", "aerial survey"} <= set(related)
        assert QUESTION not in related and len(related) == len(set(related))


def test_related_questions_offline_without_datasets_say_what_to_configure(api) -> None:
    message = assert_error(
        api.post("/api/v1/chat/recommendation", {"question": QUESTION}), RetCode.DATA_ERROR
    )
    assert "OpenAI-compatible" in message and "search_id" in message


def test_mind_map_offline_follows_documents_and_headings(api, handbook) -> None:
    body = {"question": QUESTION, "kb_ids": [handbook.pk]}
    tree = assert_ok(api.post("/api/v1/chat/mindmap", {**body}))
    assert tree["id"] == tree["name"] == QUESTION
    (document,) = tree["children"]
    assert document["id"] == "walrus.md"
    (walruses,) = document["children"]
    assert walruses["id"] == "Walruses"
    sections = {c["id"]: c["children"] for c in walruses["children"]}
    assert set(sections) == {"Counting", "Diet"}
    assert sections["Diet"][0]["id"] == "Walruses on Kolguev island eat clams."
    assert sections["Counting"][0]["id"].startswith("The walrus colony on Kolguev island")


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        ("/api/v1/chat/mindmap", {}, 101, "required argument are missing: question,kb_ids; "),
        ("/api/v1/chat/mindmap", {"question": "q"}, 101, "required argument are missing: kb_ids; "),
        (
            "/api/v1/chat/mindmap",
            {"question": "q", "kb_ids": "x"},
            102,
            "`kb_ids` should be a list of dataset ids.",
        ),
        ("/api/v1/chat/mindmap", {"question": "q", "kb_ids": []}, 100, "No KB selected"),
        (
            "/api/v1/chat/mindmap",
            {"question": 5, "kb_ids": []},
            101,
            "`question` should be a string.",
        ),
        ("/api/v1/chat/recommendation", {}, 101, "required argument are missing: question; "),
        ("/api/v1/chat/recommendation", {"question": "q" * 100_000}, 101, "`question` is too long"),
        (
            "/api/v1/chat/recommendation",
            {"question": "q", "search_id": 3},
            102,
            "`search_id` should be a string.",
        ),
        (
            "/api/v1/chat/recommendation",
            {"question": "q", "search_id": "nope"},
            109,
            "no authorization",
        ),
        ("/api/v1/sessions/related_questions", {}, 102, "`question` is required."),
    ],
)
def test_suggestion_bad_input(api22, path, body, code, message) -> None:
    assert_error(api22.post(path, body), code, message)


def test_suggestions_refuse_other_users_searches_and_datasets(api, other_api, handbook) -> None:
    search_id = search_with(api, handbook)
    response = other_api.post(
        "/api/v1/chat/recommendation", {"question": QUESTION, "search_id": search_id}
    )
    assert body_of(response) == NO_AUTHORIZATION
    response = other_api.post(
        "/api/v1/chat/mindmap", {"question": QUESTION, "kb_ids": [handbook.pk]}
    )
    assert body_of(response) == {
        "code": RetCode.DATA_ERROR,
        "message": f"You don't own the dataset {handbook.pk}",
    }
    response = other_api.post(
        "/api/v1/chat/mindmap", {"question": QUESTION, "kb_ids": [], "search_id": search_id}
    )
    assert body_of(response) == NO_AUTHORIZATION


def test_legacy_route_answers_in_the_callers_generation(api, api22, handbook) -> None:
    search_id = search_with(api, handbook, similarity_threshold=0.0)
    body = {"question": QUESTION, "search_id": search_id, "industry": "zoology"}
    old = body_of(api22.post("/api/v1/sessions/related_questions", body))
    assert old["code"] == 0 and "message" not in old and old["data"]
    new = body_of(api.post("/api/v1/sessions/related_questions", body))
    assert new["message"] == "success" and new["data"] == old["data"]
    missing = body_of(api.post("/api/v1/sessions/related_questions", {}))
    assert missing == {"code": 101, "message": "required argument are missing: question; "}


# --- with an OpenAI-compatible provider ---------------------------------------------------------


@pytest.fixture
def provider(service: FakeService, settings) -> FakeService:  # noqa: F811
    ModelProvider.objects.create(factory="Local", base_url=service.base_url, chat_models="qwen")
    settings.RAGSITE_DEFAULT_CHAT_MODEL = "qwen@Local"
    return service


def test_related_questions_ask_the_configured_model(api, provider: FakeService) -> None:
    provider.reply = sse_reply(
        "Sure:\n1. Where do walruses ", "live?\n2. What do walruses eat?\n", "thanks"
    )
    related = assert_ok(api.post("/api/v1/chat/recommendation", {"question": "walruses"}))
    assert related == ["Where do walruses live?", "What do walruses eat?"]
    (sent,) = provider.requests
    messages = sent["json"]["messages"]
    assert messages[0]["role"] == "system" and "5-10 related questions" in messages[0]["content"]
    assert messages[-1]["content"] == "\nKeywords: walruses\nRelated search terms:\n    "
    assert sent["json"]["model"] == "qwen"


def test_legacy_related_questions_use_the_search_terms_prompt(api22, provider: FakeService) -> None:
    provider.reply = sse_reply("1. Walrus counts\n2. Arctic islands\n")
    body = {"question": "walruses", "industry": "zoology"}
    assert assert_ok(api22.post("/api/v1/sessions/related_questions", body)) == [
        "Walrus counts",
        "Arctic islands",
    ]
    system = provider.requests[0]["json"]["messages"][0]["content"]
    assert "search terms" in system and "industry: zoology" in system
    assert provider.requests[0]["json"]["temperature"] == 0.9


def test_mind_map_asks_the_model_over_the_found_chunks(
    api, provider: FakeService, handbook
) -> None:
    provider.reply = sse_reply(
        "```markdown\n# Walruses of Kolguev\n## Population\n- 4312 animals\n  - counted 2019\n",
        "## Diet\n- clams\n```",
    )
    tree = assert_ok(
        api.post("/api/v1/chat/mindmap", {"question": QUESTION, "kb_ids": [handbook.pk]})
    )
    assert tree["id"] == "Walruses of Kolguev"
    population, diet = tree["children"]
    assert population["id"] == "Population" and diet["id"] == "Diet"
    assert population["children"][0]["id"] == "4312 animals"
    assert population["children"][0]["children"][0]["id"] == "counted 2019"
    assert diet["children"] == [{"id": "clams", "name": "clams", "children": []}]
    prompt = provider.requests[0]["json"]["messages"][0]["content"]
    assert "summarize a piece of text into a mind map" in prompt and "4312" in prompt


def test_a_failing_provider_is_an_envelope_error(api, settings, handbook) -> None:
    ModelProvider.objects.create(
        factory="Dead", base_url="http://127.0.0.1:9/v1", chat_models="llama", timeout_seconds=2
    )
    settings.RAGSITE_DEFAULT_CHAT_MODEL = "llama@Dead"
    response = api.post("/api/v1/chat/recommendation", {"question": QUESTION})
    assert_error(response, RetCode.EXCEPTION_ERROR)
    response = api.post("/api/v1/chat/mindmap", {"question": QUESTION, "kb_ids": [handbook.pk]})
    assert_error(response, RetCode.EXCEPTION_ERROR)


# --- audio ------------------------------------------------------------------------------------


def test_speech_says_no_tts_model_is_configured(api) -> None:
    message = assert_error(
        api.post("/api/v1/chat/audio/speech", {"text": "hello"}), RetCode.DATA_ERROR
    )
    assert message.startswith("No default TTS model is set")
    assert_error(api.post("/api/v1/chat/audio/speech", {}), RetCode.ARGUMENT_ERROR)


def test_transcription_checks_the_file_then_says_no_asr_model(api) -> None:
    url = "/api/v1/chat/audio/transcription"
    client, headers = api.client, api.headers
    assert body_of(client.post(url, {}, headers=headers)) == {
        "code": RetCode.DATA_ERROR,
        "message": "Missing 'file' in multipart form-data",
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    video = SimpleUploadedFile("clip.mp4", b"\x00\x01")
    assert body_of(client.post(url, {"file": video}, headers=headers)) == {
        "code": RetCode.DATA_ERROR,
        "message": "Unsupported audio format: .mp4. Allowed: .aac, .flac, .m4a, .mp3, .ogg, "
        ".opus, .wav, .webm, .wma",
    }
    audio = SimpleUploadedFile("note.wav", b"RIFF")
    message = assert_error(client.post(url, {"file": audio}, headers=headers), RetCode.DATA_ERROR)
    assert message.startswith("No default ASR model is set")
    assert_error(api.post(url, {"file": "x"}), RetCode.DATA_ERROR)


def test_extras_need_a_key(api, chat, turns) -> None:
    session_id, ids = turns
    anonymous = type(api)(None)
    for response in (
        anonymous.delete(message_url(chat, session_id, ids[0])),
        anonymous.put(message_url(chat, session_id, ids[0]) + "/feedback", {"thumbup": True}),
        anonymous.post("/api/v1/chat/recommendation", {"question": "q"}),
        anonymous.post("/api/v1/chat/mindmap", {"question": "q", "kb_ids": []}),
        anonymous.post("/api/v1/chat/audio/speech", {"text": "q"}),
    ):
        body = response.json()
        # v0.22 answers a missing key with a fake success (code 0, data false), v0.27 with 401.
        assert body["code"] != 0 or body["data"] is False, body
    stored = ChatSession.objects.get(pk=session_id)
    assert len(stored.messages) == 7 and "thumbup" not in stored.messages[2]
