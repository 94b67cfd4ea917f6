"""The chat pages: assistants, their settings, sessions, and stored conversations with citations."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from chat.llm.registry import BUILTIN_EXTRACTIVE
from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create, prompt_out
from chat.services.sessions import session_create
from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

HTMX = {"HX-Request": "true"}
WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."


def url(name: str, *args: str) -> str:
    return reverse(f"chat:{name}", args=args)


def htmx_from(path: str) -> dict[str, str]:
    """Headers of an HTMX request made from the page at `path`."""
    return {**HTMX, "HX-Current-URL": f"http://testserver{path}"}


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def chat(tenant: User) -> Chat:
    return chat_create(
        tenant=tenant, changes=ChatChanges(name="Helper", description="Answers things")
    )


@pytest.fixture
def walrus_dataset(tenant: User) -> Dataset:
    dataset = dataset_create(tenant=tenant, name="Field notes")
    document = Document.objects.create(
        dataset=dataset, tenant=tenant, name="walrus.txt", type="doc", suffix="txt"
    )
    chunk_add(document=document, content=WALRUS)
    dataset.refresh_from_db()
    return dataset


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Walrus expert",
        "description": "Knows the counts",
        "llm_id": BUILTIN_EXTRACTIVE,
        "system_prompt": "Answer from this: {knowledge}",
        "opener": "Ask me about walruses.",
        "empty_response": "Nothing found.",
        "similarity_threshold": "0.25",
        "vector_similarity_weight": "0.2",
        "top_n": "4",
        "show_quote": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- access -------------------------------------------------------------------------------


def test_chat_pages_need_login(client: Client, chat: Chat) -> None:
    session = session_create(chat=chat, name="s")
    for path in [
        url("chat_list"),
        url("create_chat"),
        url("chat_detail", chat.pk),
        url("chat_settings", chat.pk),
        url("session_detail", chat.pk, session.pk),
    ]:
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path

    response = client.post(url("delete_session", chat.pk, session.pk), headers=HTMX)
    assert "/accounts/login/" in response["HX-Redirect"]
    assert ChatSession.objects.filter(pk=session.pk).exists()


def test_another_users_chat_and_sessions_are_not_found(
    client: Client, chat: Chat, other_tenant: User
) -> None:
    session = session_create(chat=chat, name="private")
    client.force_login(other_tenant)
    for method, path in [
        ("get", url("chat_detail", chat.pk)),
        ("get", url("chat_settings", chat.pk)),
        ("post", url("chat_settings", chat.pk)),
        ("post", url("delete_chat", chat.pk)),
        ("get", url("session_detail", chat.pk, session.pk)),
        ("post", url("create_session", chat.pk)),
        ("get", url("rename_session", chat.pk, session.pk)),
        ("post", url("rename_session", chat.pk, session.pk)),
        ("post", url("delete_session", chat.pk, session.pk)),
    ]:
        assert getattr(client, method)(path).status_code == 404, path
    assert Chat.objects.get(pk=chat.pk).status == "1"
    assert ChatSession.objects.get(pk=session.pk).name == "private"


def test_a_session_of_another_chat_is_not_found(alice: Client, tenant: User, chat: Chat) -> None:
    other = chat_create(tenant=tenant, changes=ChatChanges(name="Other"))
    session = session_create(chat=other, name="elsewhere")
    assert alice.get(url("session_detail", chat.pk, session.pk)).status_code == 404
    assert alice.post(url("delete_session", chat.pk, session.pk)).status_code == 404
    assert ChatSession.objects.filter(pk=session.pk).exists()


# --- the list -------------------------------------------------------------------------------


def test_chat_list_shows_cards_with_model_datasets_and_session_count(
    alice: Client, tenant: User, walrus_dataset: Dataset
) -> None:
    chat = chat_create(
        tenant=tenant, changes=ChatChanges(name="Walrus bot", dataset_ids=[walrus_dataset.pk])
    )
    session_create(chat=chat, name="one")
    session_create(chat=chat, name="two")

    page = alice.get(url("chat_list")).content.decode()

    card = re.search(rf'<article id="chat-{chat.pk}".*?</article>', page, re.S)
    assert card is not None
    card_html = card.group(0)
    assert "Walrus bot" in card_html and "Field notes" in card_html
    assert "(extractive, offline)" in card_html and "badge--extractive" in card_html
    assert re.search(r"Sessions</dt><dd[^>]*>2</dd>", card_html)
    assert f'href="{url("create_chat")}"' in page


def test_chat_list_is_empty_for_a_new_user_and_hides_other_users_chats(
    client: Client, chat: Chat, other_tenant: User
) -> None:
    client.force_login(other_tenant)
    page = client.get(url("chat_list")).content.decode()
    assert "Helper" not in page
    assert "No assistants yet" in page


# --- create and edit ------------------------------------------------------------------------


def test_new_assistant_form_lists_datasets_and_disables_those_without_chunks(
    alice: Client, tenant: User, walrus_dataset: Dataset
) -> None:
    empty = dataset_create(tenant=tenant, name="Unparsed")

    page = alice.get(url("create_chat")).content.decode()

    assert re.search(rf'value="{walrus_dataset.pk}"\s*>', page)
    unparsed = re.search(rf'<input type="checkbox"[^>]*value="{empty.pk}"[^>]*>', page, re.S)
    assert unparsed and "disabled" in unparsed.group(0)
    assert "No chunks yet: parse its documents first." in page
    assert "{knowledge}" in page  # the system prompt's help
    assert "(extractive, offline)" in page
    assert 'name="vector_similarity_weight"' in page and 'type="range"' in page
    # The same words and direction as the retrieval test page: keyword left, semantic right.
    assert "Keyword ↔ Semantic" in page and "Semantic weight" in page
    assert page.index(">Keyword</span>") < page.index('name="vector_similarity_weight"')
    assert page.index('name="vector_similarity_weight"') < page.index(">Semantic</span>")


def test_create_assistant_builds_the_api_body(
    alice: Client, tenant: User, walrus_dataset: Dataset
) -> None:
    response = alice.post(url("create_chat"), form_data(dataset_ids=[walrus_dataset.pk]))

    chat = Chat.objects.get(tenant=tenant, name="Walrus expert")
    assert response.status_code == 302
    assert response["Location"] == url("chat_detail", chat.pk)
    assert chat.dataset_ids == [walrus_dataset.pk]
    assert chat.llm_id == BUILTIN_EXTRACTIVE
    assert chat.description == "Knows the counts"
    assert chat.top_n == 4 and chat.similarity_threshold == pytest.approx(0.25)
    assert chat.prompt_config["system"] == "Answer from this: {knowledge}"
    assert chat.prompt_config["prologue"] == "Ask me about walruses."
    assert chat.prompt_config["empty_response"] == "Nothing found."
    assert chat.prompt_config["quote"] is True
    # The slider is RAGFlow's vector_similarity_weight (the semantic weight), stored as is;
    # the v0.22 API reports 1 − it as keywords_similarity_weight, as RAGFlow does.
    assert chat.vector_similarity_weight == pytest.approx(0.2)
    assert prompt_out(chat)["keywords_similarity_weight"] == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"name": ""}, "This field is required."),
        ({"top_n": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"vector_similarity_weight": "1.5"}, "Ensure this value is less than or equal to 1."),
        ({"llm_id": "gpt-x@Nowhere"}, "Select a valid choice."),
        (
            {"system_prompt": "Answer briefly."},
            "The system prompt must contain {knowledge}",
        ),
    ],
)
def test_create_assistant_shows_errors_on_the_form(
    alice: Client, tenant: User, overrides: dict[str, Any], field_message: str
) -> None:
    response = alice.post(url("create_chat"), form_data(**overrides))

    assert response.status_code == 200
    page = response.content.decode()
    assert field_message in page
    assert 'id="chat-settings-form"' in page
    assert not Chat.objects.filter(tenant=tenant).exists()


def test_create_assistant_with_a_taken_name_says_so_on_the_name(alice: Client, chat: Chat) -> None:
    page = alice.post(url("create_chat"), form_data(name="helper")).content.decode()
    assert "You already have an assistant with this name." in page
    assert Chat.objects.filter(name__iexact="helper").count() == 1


def test_create_assistant_refuses_a_dataset_without_chunks(alice: Client, tenant: User) -> None:
    empty = dataset_create(tenant=tenant, name="Unparsed")
    page = alice.post(url("create_chat"), form_data(dataset_ids=[empty.pk])).content.decode()
    assert "is not one of the available choices" in page
    assert not Chat.objects.filter(tenant=tenant).exists()


def test_settings_are_prefilled_and_saved(
    alice: Client, tenant: User, walrus_dataset: Dataset
) -> None:
    chat = chat_create(
        tenant=tenant,
        changes=ChatChanges(
            name="Walrus bot",
            dataset_ids=[walrus_dataset.pk],
            vector_similarity_weight=0.4,  # what the v0.22 API's keywords_similarity_weight sets
            top_n=9,
        ),
    )
    page = alice.get(url("chat_settings", chat.pk)).content.decode()
    assert 'value="Walrus bot"' in page
    assert re.search(rf'value="{walrus_dataset.pk}"\s*checked', page)
    # The slider shows the stored semantic weight itself, as the retrieval test page does.
    assert re.search(r'name="vector_similarity_weight" value="0.4"', page)
    assert 'name="top_n" value="9"' in page

    response = alice.post(
        url("chat_settings", chat.pk),
        form_data(name="Walrus bot 2", top_n="3", show_quote=None, vector_similarity_weight="0.4"),
    )

    assert response.status_code == 302 and response["Location"] == url("chat_detail", chat.pk)
    chat.refresh_from_db()
    assert chat.name == "Walrus bot 2" and chat.top_n == 3
    assert chat.dataset_ids == []  # unticked
    assert chat.prompt_config["quote"] is False
    assert chat.vector_similarity_weight == pytest.approx(0.4)


def test_settings_errors_stay_on_the_form(alice: Client, tenant: User, chat: Chat) -> None:
    chat_create(tenant=tenant, changes=ChatChanges(name="Taken"))
    page = alice.post(url("chat_settings", chat.pk), form_data(name="taken")).content.decode()
    assert "You already have an assistant with this name." in page
    chat.refresh_from_db()
    assert chat.name == "Helper"


def test_delete_assistant_from_its_card_and_from_its_settings(
    alice: Client, tenant: User, chat: Chat
) -> None:
    response = alice.post(url("delete_chat", chat.pk), headers=htmx_from(url("chat_list")))
    assert response.status_code == 200 and response.content == b""
    assert Chat.objects.get(pk=chat.pk).status == "0"
    assert alice.get(url("chat_detail", chat.pk)).status_code == 404

    other = chat_create(tenant=tenant, changes=ChatChanges(name="Second"))
    response = alice.post(
        url("delete_chat", other.pk), headers=htmx_from(url("chat_settings", other.pk))
    )
    assert response["HX-Redirect"] == url("chat_list")
    assert Chat.objects.get(pk=other.pk).status == "0"


# --- the chat page and its sessions ------------------------------------------------------------


def test_chat_page_without_sessions_invites_to_start_one(alice: Client, chat: Chat) -> None:
    response = alice.get(url("chat_detail", chat.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No sessions yet" in page
    assert f'action="{url("create_session", chat.pk)}"' in page
    assert "data-socket-path" not in page


def test_chat_page_opens_the_last_used_session(alice: Client, chat: Chat) -> None:
    session_create(chat=chat, name="old")
    recent = session_create(chat=chat, name="recent")
    response = alice.get(url("chat_detail", chat.pk))
    assert response["Location"] == url("session_detail", chat.pk, recent.pk)


def test_new_session_starts_with_the_opener(alice: Client, chat: Chat) -> None:
    response = alice.post(url("create_session", chat.pk))

    session = ChatSession.objects.get(chat=chat)
    assert response["Location"] == url("session_detail", chat.pk, session.pk)
    page = alice.get(response["Location"]).content.decode()
    assert f"<p>{chat.prompt_config['prologue']}</p>" in page  # rendered as Markdown
    assert f'data-socket-path="/ws/chat/{chat.pk}/sessions/{session.pk}/"' in page
    assert 'aria-current="page"' in page


def test_rename_session_inline(alice: Client, chat: Chat) -> None:
    session = session_create(chat=chat, name="first")
    other = session_create(chat=chat, name="second")
    here = url("session_detail", chat.pk, session.pk)

    form = alice.get(url("rename_session", chat.pk, session.pk), headers=htmx_from(here))
    assert 'name="name" value="first"' in form.content.decode()
    assert "<html" not in form.content.decode()

    response = alice.post(
        url("rename_session", chat.pk, session.pk),
        {"name": "Walrus counts"},
        headers=htmx_from(here),
    )
    page = response.content.decode()
    assert ChatSession.objects.get(pk=session.pk).name == "Walrus counts"
    assert f'id="session-{session.pk}"' in page and "is-current" in page
    # The conversation's heading follows along, out of band.
    assert re.search(r'<h2 id="session-title"[^>]*hx-swap-oob="true">Walrus counts</h2>', page)

    response = alice.post(
        url("rename_session", chat.pk, other.pk), {"name": "Renamed"}, headers=htmx_from(here)
    )
    assert "hx-swap-oob" not in response.content.decode()
    assert "is-current" not in response.content.decode()

    response = alice.post(
        url("rename_session", chat.pk, session.pk), {"name": "  "}, headers=htmx_from(here)
    )
    assert "Give the session a name." in response.content.decode()
    assert ChatSession.objects.get(pk=session.pk).name == "Walrus counts"

    cancel = alice.get(url("session_item", chat.pk, session.pk), headers=htmx_from(here))
    assert "Walrus counts" in cancel.content.decode() and "is-current" in cancel.content.decode()


def test_rename_session_without_javascript(alice: Client, chat: Chat) -> None:
    session = session_create(chat=chat, name="first")
    assert (
        "Rename the session"
        in alice.get(url("rename_session", chat.pk, session.pk)).content.decode()
    )
    response = alice.post(url("rename_session", chat.pk, session.pk), {"name": "plain"})
    assert response["Location"] == url("session_detail", chat.pk, session.pk)
    assert ChatSession.objects.get(pk=session.pk).name == "plain"


def test_delete_session(alice: Client, chat: Chat) -> None:
    shown = session_create(chat=chat, name="shown")
    other = session_create(chat=chat, name="other")
    here = url("session_detail", chat.pk, shown.pk)

    response = alice.post(url("delete_session", chat.pk, other.pk), headers=htmx_from(here))
    assert response.status_code == 200 and response.content == b""
    assert not ChatSession.objects.filter(pk=other.pk).exists()

    # Deleting the session on screen leaves its page.
    response = alice.post(url("delete_session", chat.pk, shown.pk), headers=htmx_from(here))
    assert response["HX-Redirect"] == url("chat_detail", chat.pk)
    assert not ChatSession.objects.filter(chat=chat).exists()


def test_chat_page_renders_stored_messages_with_citations(
    alice: Client, tenant: User, chat: Chat
) -> None:
    session = session_create(chat=chat, name="walruses")
    chunk = {
        "id": "c1",
        "content": WALRUS,
        "document_id": "doc1",
        "document_name": "walrus.txt",
        "dataset_id": "ds1",
        "similarity": 0.9,
    }
    ChatSession.objects.filter(pk=session.pk).update(
        messages=[
            *session.messages,
            {"role": "user", "content": "How many walruses?", "id": "m1"},
            {
                "role": "assistant",
                "content": "4312 **animals** in 2019. [ID:0] <b>bold</b><script>x()</script>",
                "id": "m1",
            },
            {"role": "user", "content": "And seals?", "id": "m2"},
            {"role": "assistant", "content": "**ERROR**: The chat model is down.", "id": "m2"},
        ],
        references=[{"total": 1, "chunks": [chunk], "doc_aggs": []}, {}],
    )

    page = alice.get(url("session_detail", chat.pk, session.pk)).content.decode()

    messages = re.findall(r'<li id="message-\d+" class="message message--(\w+)', page)
    assert messages == ["assistant", "user", "assistant", "user", "assistant"]
    assert f"<p>{chat.prompt_config['prologue']}</p>" in page
    assert "How many walruses?" in page
    answer_html = page.split('<li id="message-3"')[1].split('<li id="message-4"')[0]
    assert "[ID:0]" not in answer_html
    # Answers are Markdown: rendered, raw HTML sanitized (<b> kept, <script> gone with its text).
    assert "<strong>animals</strong>" in answer_html and "<b>bold</b>" in answer_html
    assert "script" not in answer_html and "x()" not in answer_html
    assert 'aria-controls="message-3-cite-0"' in answer_html
    # The marker sticks to the word it follows, so it never wraps onto a line of its own.
    assert (
        '<span class="cite-hug">2019.<sup class="cite"><button type="button" class="cite__button"'
        ' aria-expanded="false" aria-controls="message-3-cite-0" aria-label="Source 1"'
        ' data-cite="1">①</button></sup></span>'
    ) in answer_html
    assert re.search(r'<div id="message-3-cite-0" class="citation" hidden>', answer_html)
    assert WALRUS in answer_html
    download = reverse("knowledge:download_document", args=["ds1", "doc1"])
    assert f'<a href="{download}">walrus.txt</a>' in answer_html
    assert "Sources" in answer_html
    # A failed answer is shown as one.
    assert re.search(r'class="message message--assistant message--error"', page)
    assert "The chat model is down." in page and "**ERROR**" not in page


def test_the_weight_slider_reads_the_same_in_chinese(
    alice: Client, chat: Chat, walrus_dataset: Dataset
) -> None:
    alice.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    settings_page = alice.get(url("chat_settings", chat.pk)).content.decode()
    retrieval_page = alice.get(
        reverse("knowledge:retrieval_test", args=[walrus_dataset.pk])
    ).content.decode()
    for page in (settings_page, retrieval_page):
        assert "关键词 ↔ 语义" in page and "语义权重" in page
        assert '<span class="range__end" aria-hidden="true">关键词</span>' in page
