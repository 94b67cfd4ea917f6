"""A document's chunk browser: paging, search, adding, editing, switching off and deleting."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Chunk, Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.accounts.models import User
from ragsite.api.errors import DataError

HTMX = {"HX-Request": "true"}
WALRUS = "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
SEALS = "Seals haul out on the northern spit at low tide."


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="handbook")


def make_document(dataset: Dataset, name: str = "notes.txt") -> Document:
    data = b"Field notes from the Kolguev expedition.\n"
    (document,) = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=name, file=ContentFile(data), size=len(data))],
    )
    return document


@pytest.fixture
def document(dataset: Dataset) -> Document:
    return make_document(dataset)


def url(name: str, *args: str) -> str:
    return reverse(f"knowledge:{name}", args=args)


def browser(document: Document) -> str:
    return url("document_chunks", document.dataset_id, document.pk)


def chunk_url(name: str, chunk: Chunk) -> str:
    return url(name, chunk.dataset_id, chunk.document_id, chunk.pk)


def card(html: str, chunk: Chunk) -> str:
    match = re.search(rf'<article id="chunk-{chunk.pk}".*?</article>', html, re.S)
    assert match, f"no card for {chunk.pk}"
    return match.group(0)


def counters(html: str) -> list[str]:
    match = re.search(r'<dl id="chunk-counters".*?</dl>', html, re.S)
    assert match, "no counters"
    return re.findall(r'class="stat__value">([^<]*)<', match.group(0))


def fresh(model: Any) -> Any:
    model.refresh_from_db()
    return model


# --- the page ---------------------------------------------------------------------------------


def test_page_shows_each_chunk_with_its_details_and_the_counters(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    first = chunk_add(
        document=document,
        content=WALRUS,
        important_keywords=["walrus", "Kolguev"],
        questions=["How many walruses live on Kolguev?"],
    )
    second = chunk_add(document=document, content="<script>alert('x')</script> & more")
    Chunk.objects.filter(pk=first.pk).update(page_numbers=[3, 4])

    response = alice.get(browser(document))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="dataset-head__name">notes.txt</h1>' in page
    assert f'href="{url("dataset_detail", dataset.pk)}"' in page  # back to the knowledge base
    one = card(page, first)
    assert "Chunk #1" in one and "Pages 3–4" in one
    assert f"{fresh(first).token_count} tokens" in one
    assert '<li class="tag">walrus</li><li class="tag">Kolguev</li>' in one
    assert "How many walruses live on Kolguev?" in one
    assert 'role="switch" aria-checked="true"' in one
    assert chunk_url("edit_chunk", first) in one and chunk_url("delete_chunk", first) in one
    # Chunks are Markdown: raw HTML in them is sanitized, a <script> dropped with its text.
    assert '<div class="chunk__text md">&amp; more</div>' in card(page, second)
    assert "<script>alert" not in page and "alert(" not in card(page, second)
    tokens = fresh(document).token_count
    assert counters(page) == ["2", f"{tokens:,}", "2 chunks"]
    assert 'id="chunk-add-form"' in page and 'id="chunk-bulk-form"' in page
    assert "1–2 of 2 chunks, in reading order." in page


def test_an_empty_document_says_how_to_get_chunks(alice: Client, document: Document) -> None:
    page = alice.get(browser(document)).content.decode()
    assert "No chunks yet. Parse the document, or add chunks by hand" in page
    assert 'class="pager"' not in page


def test_pages_hold_twenty_chunks_and_page_with_htmx(alice: Client, document: Document) -> None:
    chunks = [
        chunk_add(document=document, content=f"Note number {i} about seals.") for i in range(23)
    ]

    first_page = alice.get(browser(document)).content.decode()
    assert first_page.count('class="chunk"') + first_page.count('class="chunk ') == 20
    assert "1–20 of 23 chunks" in first_page and "Page 1 of 2" in first_page
    assert f'href="{browser(document)}?page=2"' in first_page

    response = alice.get(browser(document), {"page": "2"}, headers=HTMX)

    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="chunk-list"')
    assert "21–23 of 23 chunks" in body and "Page 2 of 2" in body
    assert [c.pk for c in chunks[20:]] == re.findall(r'<article id="chunk-(\w+)"', body)
    assert f'href="{browser(document)}"' in body  # "Previous" goes back to the first page
    assert "HX-Request" in response["Vary"]
    # A page past the end (after deletes, or an old link) shows the last one.
    assert "Page 2 of 2" in alice.get(browser(document), {"page": "9"}).content.decode()


def test_a_link_to_a_chunk_opens_its_page_and_marks_it(alice: Client, document: Document) -> None:
    chunks = [chunk_add(document=document, content=f"Tally sheet {i}.") for i in range(22)]
    target = chunks[21]

    page = alice.get(browser(document), {"chunk": target.pk}).content.decode()

    assert "Page 2 of 2" in page
    assert 'class="chunk is-marked"' in card(page, target)


def test_search_shows_only_matching_chunks_with_the_matches_highlighted(
    alice: Client, document: Document
) -> None:
    walrus = chunk_add(document=document, content=WALRUS)
    chunk_add(document=document, content=SEALS)

    response = alice.get(browser(document), {"keywords": "walrus"}, headers=HTMX)

    body = response.content.decode()
    assert re.findall(r'<article id="chunk-(\w+)"', body) == [walrus.pk]
    assert "The <mark>walrus</mark> colony on Kolguev island" in body
    assert "1 chunk contains “walrus”" in body
    # The hidden state tells the bulk form which search to come back to.
    assert 'name="keywords" value="walrus" form="chunk-bulk-form"' in body
    nothing = alice.get(browser(document), {"keywords": "narwhal"}, headers=HTMX)
    assert "No chunk contains “narwhal”." in nothing.content.decode()


# --- adding ------------------------------------------------------------------------------------


def test_add_embeds_the_chunk_and_updates_list_and_counters(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    chunk_add(document=document, content=SEALS)

    response = alice.post(
        url("add_chunk", dataset.pk, document.pk),
        {
            "content": WALRUS,
            "important_keywords": "walrus, Kolguev，count\nisland, walrus",
            "questions": "How many walruses?\n\n  Where do they live?  \n",
            "keywords": "seals",  # the search the reader had: cleared to show the new chunk
        },
        headers=HTMX,
    )

    body = response.content.decode()
    chunk = Chunk.objects.get(document=document, content=WALRUS)
    assert chunk.important_keywords == ["walrus", "Kolguev", "count", "island"]
    assert chunk.questions == ["How many walruses?", "Where do they live?"]
    assert chunk.available and chunk.ordinal == 1  # after the first (0): "Chunk #2"
    assert fresh(document).chunk_count == 2 and fresh(dataset).chunk_count == 2
    # The form comes back empty with a confirmation; the list and the counters out of band.
    assert body.lstrip().startswith('<form id="chunk-add-form"')
    assert "Chunk added." in body and WALRUS not in body.split("</form>", 1)[0]
    assert '<div id="chunk-list" class="chunk-list" hx-swap-oob="true">' in body
    assert 'class="chunk is-marked is-new"' in card(body, chunk)
    assert counters(body)[0] == "2" and counters(body)[2] == "2 chunks"
    assert 'id="chunk-search" type="search" name="keywords" value=""' in body
    # Embedded at once: retrieval finds it straight away.
    result = retrieval_run(
        user=dataset.tenant,
        request=RetrievalRequest(question="Kolguev walrus", dataset_ids=[dataset.pk]),
    )
    assert result is not None and result.hits[0].id == chunk.pk


def test_add_without_text_says_so_and_adds_nothing(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    response = alice.post(
        url("add_chunk", dataset.pk, document.pk), {"content": "  \n "}, headers=HTMX
    )

    body = response.content.decode()
    assert "Write the chunk&#x27;s text." in body and 'aria-invalid="true"' in body
    assert "hx-swap-oob" not in body
    assert not Chunk.objects.exists()


def test_add_shows_the_services_message(
    alice: Client, dataset: Dataset, document: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.views import chunks

    def refuse(**kwargs: Any) -> Chunk:
        raise DataError("The embedding service is unreachable.")

    monkeypatch.setattr(chunks, "chunk_add", refuse)
    response = alice.post(
        url("add_chunk", dataset.pk, document.pk), {"content": WALRUS}, headers=HTMX
    )

    body = response.content.decode()
    assert 'role="alert"' in body and "The embedding service is unreachable." in body
    assert WALRUS in body  # what was typed is kept


def test_add_without_javascript_goes_to_the_new_chunk(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    response = alice.post(url("add_chunk", dataset.pk, document.pk), {"content": WALRUS})

    chunk = Chunk.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{browser(document)}?chunk={chunk.pk}#chunk-{chunk.pk}"
    page = alice.get(response["Location"]).content.decode()
    assert "Added chunk #1." in page and "is-marked" in card(page, chunk)


# --- editing -----------------------------------------------------------------------------------


def test_edit_opens_in_place_with_the_current_values(alice: Client, document: Document) -> None:
    chunk = chunk_add(
        document=document,
        content=WALRUS,
        important_keywords=["walrus", "Kolguev"],
        questions=["A?", "B?"],
    )

    response = alice.get(chunk_url("edit_chunk", chunk), {"page": "1"}, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="chunk-{chunk.pk}" class="chunk is-editing"')
    assert f">\n{WALRUS}</textarea>" in body
    assert 'value="walrus, Kolguev"' in body and ">\nA?\nB?</textarea>" in body
    assert f'id="chunk-{chunk.pk}-content"' in body  # ids of its own, next to other forms
    cancel = alice.get(chunk_url("chunk_detail", chunk), headers=HTMX).content.decode()
    assert cancel.lstrip().startswith(f'<article id="chunk-{chunk.pk}" class="chunk"')


def test_edit_saves_text_keywords_and_questions_and_updates_the_counters(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    chunk = chunk_add(document=document, content="Seals.")
    tokens_before = fresh(document).token_count

    response = alice.post(
        chunk_url("edit_chunk", chunk),
        {
            "content": SEALS + " They return every spring to the same beach.",
            "important_keywords": "seal; spit",
            "questions": "Where do seals haul out?",
            "page": "1",
            "keywords": "seals",
        },
        headers=HTMX,
    )

    body = response.content.decode()
    saved = fresh(chunk)
    assert saved.content.startswith(SEALS) and saved.important_keywords == ["seal", "spit"]
    assert saved.questions == ["Where do seals haul out?"]
    assert fresh(document).token_count > tokens_before
    assert fresh(dataset).token_count == fresh(document).token_count
    assert body.lstrip().startswith(f'<article id="chunk-{chunk.pk}" class="chunk"')
    # Still highlighted like the searched list around it.
    assert "<mark>Seals</mark> haul out" in body
    assert counters(body)[1] == f"{fresh(document).token_count:,}"
    assert "Saved chunk #1." in body


def test_edit_errors_stay_in_the_form(
    alice: Client, document: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunk = chunk_add(document=document, content=WALRUS)

    empty = alice.post(chunk_url("edit_chunk", chunk), {"content": " "}, headers=HTMX)
    assert "is-editing" in empty.content.decode() and "Write the chunk" in empty.content.decode()

    # What the service refuses (a Q&A chunk needs a question and an answer) shows its reason.
    Document.objects.filter(pk=document.pk).update(chunk_method="qa")
    refused = alice.post(chunk_url("edit_chunk", chunk), {"content": "no tab"}, headers=HTMX)
    assert "Q&amp;A must be separated by TAB/ENTER key." in refused.content.decode()
    assert fresh(chunk).content == WALRUS


def test_edit_without_javascript_is_a_page_that_redirects_back(
    alice: Client, document: Document
) -> None:
    chunk = chunk_add(document=document, content=WALRUS)

    page = alice.get(chunk_url("edit_chunk", chunk))
    assert "<html" in page.content.decode() and "Edit chunk #1" in page.content.decode()
    response = alice.post(chunk_url("edit_chunk", chunk), {"content": SEALS})
    assert response.status_code == 302 and f"?chunk={chunk.pk}" in response["Location"]
    assert fresh(chunk).content == SEALS


# --- availability ------------------------------------------------------------------------------


def test_the_switch_makes_a_chunk_unavailable_and_available_again(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    chunk = chunk_add(document=document, content=WALRUS)

    off = alice.post(chunk_url("toggle_chunk", chunk), {"available": "0"}, headers=HTMX)

    body = off.content.decode()
    assert fresh(chunk).available is False
    assert 'class="chunk is-unavailable"' in body and 'aria-checked="false"' in body
    assert 'name="available" value="1"' in body  # the next click switches it back on
    assert (
        retrieval_run(
            user=dataset.tenant,
            request=RetrievalRequest(question="Kolguev walrus", dataset_ids=[dataset.pk]),
        ).hits
        == []
    )  # type: ignore[union-attr]

    alice.post(chunk_url("toggle_chunk", chunk), {"available": "1"}, headers=HTMX)
    assert fresh(chunk).available is True


def test_a_chunk_of_a_disabled_document_stays_unavailable_and_says_why(
    alice: Client, document: Document
) -> None:
    chunk = chunk_add(document=document, content=WALRUS)
    Document.objects.filter(pk=document.pk).update(enabled=False)
    Chunk.objects.filter(pk=chunk.pk).update(available=False)

    response = alice.post(chunk_url("toggle_chunk", chunk), {"available": "1"}, headers=HTMX)

    assert fresh(chunk).available is False
    assert "“notes.txt” is disabled" in response.content.decode()


# --- deleting ----------------------------------------------------------------------------------


def test_delete_removes_the_chunk_and_updates_list_and_counters(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    walrus = chunk_add(document=document, content=WALRUS)
    seals = chunk_add(document=document, content=SEALS)

    response = alice.post(chunk_url("delete_chunk", seals), {"page": "1"}, headers=HTMX)

    body = response.content.decode()
    assert list(Chunk.objects.values_list("pk", flat=True)) == [walrus.pk]
    assert fresh(document).chunk_count == 1 and fresh(dataset).chunk_count == 1
    assert body.lstrip().startswith('<div id="chunk-list"')
    assert re.findall(r'<article id="chunk-(\w+)"', body) == [walrus.pk]
    assert counters(body)[0] == "1" and counters(body)[2] == "1 chunk"
    assert "Deleted chunk #2." in body


def test_delete_selected_deletes_only_the_ticked_chunks(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    chunks = [chunk_add(document=document, content=f"Tally sheet {i}.") for i in range(3)]

    response = alice.post(
        url("delete_selected_chunks", dataset.pk, document.pk),
        {"ids": [chunks[0].pk, chunks[2].pk], "page": "1", "keywords": ""},
        headers=HTMX,
    )

    assert "Deleted 2 chunks." in response.content.decode()
    assert list(Chunk.objects.values_list("pk", flat=True)) == [chunks[1].pk]
    assert fresh(dataset).chunk_count == 1


def test_delete_selected_with_nothing_ticked_deletes_nothing(
    alice: Client, dataset: Dataset, document: Document
) -> None:
    chunk_add(document=document, content=WALRUS)
    chunk_add(document=document, content=SEALS)

    response = alice.post(
        url("delete_selected_chunks", dataset.pk, document.pk), {"ids": [""]}, headers=HTMX
    )

    # To the service, no ids means every chunk: the view must not pass that on.
    assert "Select one or more chunks first." in response.content.decode()
    assert Chunk.objects.count() == 2


def test_deleting_the_last_chunk_of_the_last_page_shows_the_page_before(
    alice: Client, document: Document
) -> None:
    chunks = [chunk_add(document=document, content=f"Tally sheet {i}.") for i in range(21)]

    response = alice.post(chunk_url("delete_chunk", chunks[20]), {"page": "2"}, headers=HTMX)

    body = response.content.decode()
    assert "1–20 of 20 chunks" in body and 'class="pager"' not in body


# --- who may do what ---------------------------------------------------------------------------


def all_requests(document: Document, chunk: Chunk) -> list[tuple[str, str]]:
    return [
        ("get", browser(document)),
        ("get", chunk_url("chunk_detail", chunk)),
        ("get", chunk_url("edit_chunk", chunk)),
        ("post", chunk_url("edit_chunk", chunk)),
        ("post", chunk_url("toggle_chunk", chunk)),
        ("post", chunk_url("delete_chunk", chunk)),
        ("post", url("add_chunk", document.dataset_id, document.pk)),
        ("post", url("delete_selected_chunks", document.dataset_id, document.pk)),
    ]


@pytest.mark.parametrize("permission", ["me", "team"])
def test_another_users_chunks_are_404(alice: Client, other_tenant: User, permission: str) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret", permission=permission)
    document = make_document(theirs)
    chunk = chunk_add(document=document, content=WALRUS)

    for method, path in all_requests(document, chunk):
        response = getattr(alice, method)(path, {"ids": [chunk.pk], "content": "x"}, headers=HTMX)
        assert response.status_code == 404, (method, path)
    assert fresh(chunk).content == WALRUS


def test_a_document_or_chunk_of_somewhere_else_is_404(
    alice: Client, dataset: Dataset, document: Document, other_tenant: User
) -> None:
    theirs = make_document(dataset_create(tenant=other_tenant, name="secret"))
    their_chunk = chunk_add(document=theirs, content=WALRUS)
    other_document = make_document(dataset, "other.txt")
    other_chunk = chunk_add(document=other_document, content=SEALS)

    assert alice.get(url("document_chunks", dataset.pk, theirs.pk)).status_code == 404
    for name in ["chunk_detail", "edit_chunk"]:
        assert alice.get(url(name, dataset.pk, document.pk, other_chunk.pk)).status_code == 404
    for name in ["toggle_chunk", "delete_chunk", "edit_chunk"]:
        path = url(name, dataset.pk, document.pk, other_chunk.pk)
        assert alice.post(path, headers=HTMX).status_code == 404
    # Ticked ids of another document are never deleted from it.
    alice.post(
        url("delete_selected_chunks", dataset.pk, document.pk),
        {"ids": [other_chunk.pk, their_chunk.pk]},
        headers=HTMX,
    )
    assert Chunk.objects.count() == 2


def test_team_mates_browse_and_search_read_only(
    alice: Client, tenant: User, other_tenant: User
) -> None:
    team = Group.objects.create(name="support")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    shared = dataset_create(tenant=other_tenant, name="team-faq", permission="team")
    document = make_document(shared)
    chunk = chunk_add(document=document, content=WALRUS, important_keywords=["walrus"])

    page = alice.get(browser(document)).content.decode()

    assert "Shared by charlie · read-only" in page
    assert WALRUS in page and '<li class="tag">walrus</li>' in page
    assert 'id="chunk-add-form"' not in page and 'id="chunk-bulk-form"' not in page
    assert 'name="ids"' not in page and 'role="switch"' not in page
    assert '<span class="badge badge--done">Available</span>' in page
    for name in ["edit_chunk", "toggle_chunk", "delete_chunk"]:
        assert chunk_url(name, chunk) not in page
    searched = alice.get(browser(document), {"keywords": "Kolguev"}, headers=HTMX)
    assert "<mark>Kolguev</mark>" in searched.content.decode()
    for method, path in all_requests(document, chunk):
        if method == "post" or "edit" in path:
            assert getattr(alice, method)(path, headers=HTMX).status_code == 404, path
    assert Chunk.objects.filter(pk=chunk.pk).exists()


def test_views_answer_only_their_methods(alice: Client, document: Document) -> None:
    chunk = chunk_add(document=document, content=WALRUS)
    assert alice.post(browser(document)).status_code == 405
    assert alice.get(url("add_chunk", document.dataset_id, document.pk)).status_code == 405
    assert alice.get(chunk_url("toggle_chunk", chunk)).status_code == 405
    assert alice.get(chunk_url("delete_chunk", chunk)).status_code == 405


def test_anonymous_users_are_sent_to_log_in(client: Client, document: Document) -> None:
    response = client.get(browser(document))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_very_long_chunk_shows_its_start_and_the_edit_form_all_of_it(
    alice: Client, document: Document
) -> None:
    paragraph = "The walrus colony was counted again at dawn. " * 40
    content = "\n\n".join(f"{n}: {paragraph}" for n in range(600)) + "\n\nTHE-LAST-WORDS"
    chunk = Chunk.objects.create(
        id="long-chunk-1", document=document, dataset=document.dataset,
        content=content, ordinal=0,
    )  # fmt: skip

    card = alice.get(chunk_url("chunk_detail", chunk), headers=HTMX).content.decode()
    assert "0: The walrus colony" in card and "THE-LAST-WORDS" not in card
    shown = content[: content.rfind("\n\n", 0, 20_000)]
    hidden = f"{len(content) - len(shown):,}".replace(",", "")
    assert re.search(rf"… and {hidden} more characters; the edit form shows the whole text", card)
    edit = alice.get(chunk_url("edit_chunk", chunk), headers=HTMX).content.decode()
    assert "THE-LAST-WORDS</textarea>" in edit
