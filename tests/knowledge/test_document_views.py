"""A knowledge base's page: uploading, the document table, its live updates and its actions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Chunk, Dataset, Document
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User

HTMX = {"HX-Request": "true"}
TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20
POLL_TRIGGER = "every 1500ms"
Run = Document.Run


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="handbook", description="Walrus facts")


def add_documents(dataset: Dataset, *files: tuple[str, bytes]) -> list[Document]:
    uploads = [Upload(name=name, file=ContentFile(data), size=len(data)) for name, data in files]
    return document_upload(tenant=dataset.tenant, dataset=dataset, uploads=uploads)


def url(name: str, *args: str) -> str:
    return reverse(f"knowledge:{name}", args=args)


def set_state(document: Document, **fields: Any) -> None:
    Document.objects.filter(pk=document.pk).update(**fields)


def upload(client: Client, dataset: Dataset, *files: tuple[str, bytes], parse: bool, **kw: Any):
    data: dict[str, Any] = {"file": [SimpleUploadedFile(name, body) for name, body in files]}
    if parse:
        data["parse"] = "on"
    return client.post(url("upload_documents", dataset.pk), data, **kw)


# --- the page ------------------------------------------------------------------------------


def test_dataset_name_on_the_list_links_to_its_page(alice: Client, dataset: Dataset) -> None:
    assert f'href="{url("dataset_detail", dataset.pk)}"' in alice.get("/").content.decode()


def test_dataset_page_shows_header_counters_upload_and_documents(
    alice: Client, dataset: Dataset
) -> None:
    add_documents(dataset, ("walrus.txt", TEXT), ("notes.md", b"# Notes\n\nSome notes."))

    page = alice.get(url("dataset_detail", dataset.pk)).content.decode()

    assert '<h1 class="dataset-head__name">handbook</h1>' in page
    assert "Walrus facts" in page
    assert "General" in page and "all-MiniLM-L6-v2" in page
    counters = re.search(r'<dl id="dataset-counters".*?</dl>', page, re.S)
    assert counters and ">2</dd>" in counters.group(0)
    assert 'id="upload-form"' in page and 'accept=".bash,' in page
    accept = re.search(r'accept="([^"]+)"', page)
    assert accept and {".doc", ".xls", ".ppt", ".rtf", ".odt"} <= set(accept.group(1).split(","))
    assert "walrus.txt" in page and "notes.md" in page
    assert page.count("Not parsed") == 2
    assert "1.4\xa0KB" in page  # the size, human-readable
    # Nothing parses, so nothing polls.
    assert POLL_TRIGGER not in page


def test_dataset_page_shows_every_parse_state(alice: Client, dataset: Dataset) -> None:
    docs = add_documents(
        dataset, *[(f"doc{i}.txt", TEXT) for i in range(6)]
    )  # newest first on the page: doc5 … doc0
    set_state(docs[1], run=Run.RUNNING, progress=0.0)
    set_state(
        docs[2],
        run=Run.RUNNING,
        progress=0.374,
        progress_msg="10:00:00 Task has been received.\n10:00:01 Embedding 32/64.",
    )
    set_state(docs[3], run=Run.DONE, progress=1.0, chunk_count=7, process_duration=2.25)
    set_state(
        docs[4],
        run=Run.FAIL,
        progress=-1.0,
        progress_msg="10:00:00 Task has been received.\n"
        "10:00:01 [ERROR] The PDF is damaged: no pages could be read.\n"
        "10:00:02 Cleaning up.",
    )
    set_state(docs[5], run=Run.CANCEL, progress_msg="10:00:00 Cancelled by the user.")

    page = alice.get(url("dataset_detail", dataset.pk)).content.decode()

    def row(document: Document) -> str:
        match = re.search(rf'<tr id="document-{document.pk}".*?</tr>', page, re.S)
        assert match, document.name
        return match.group(0)

    assert "Not parsed" in row(docs[0]) and re.search(r">\s*Parse<span", row(docs[0]))
    assert "Queued" in row(docs[1]) and "<progress" in row(docs[1])
    assert 'value="' not in row(docs[1]).split("<progress", 1)[1].split(">", 1)[0]
    running = row(docs[2])
    assert "Parsing 37%" in running and 'value="37"' in running
    assert "Embedding 32/64." in running and "10:00:01" not in running
    assert "Stop" in running and "Re-parse" not in running
    assert "Done" in row(docs[3]) and "Parsed in 2.3 s" in row(docs[3])
    chunks_cell = re.search(r'data-label="Chunks">(.*?)</td>', row(docs[3]), re.S)
    assert chunks_cell and re.search(
        r'aria-label="7 chunks of “doc3.txt”">7</a>', chunks_cell.group(1)
    )
    # The count opens the chunk browser, and so does a link under the name.
    assert f'href="{url("document_chunks", dataset.pk, docs[3].pk)}"' in chunks_cell.group(1)
    assert row(docs[3]).count(url("document_chunks", dataset.pk, docs[3].pk)) == 2
    # Nothing to count before a parse (the link under the name still opens it, to add chunks).
    assert re.search(r'data-label="Chunks">\s*<span class="muted">', row(docs[0]))
    assert row(docs[0]).count(url("document_chunks", dataset.pk, docs[0].pk)) == 1
    failed = row(docs[4])
    assert "Failed" in failed
    assert '<p class="parse-state__error">The PDF is damaged: no pages could be read.</p>' in failed
    assert "<details" in failed and "Cleaning up." in failed
    assert "Cancelled" in row(docs[5]) and "Re-parse" in row(docs[5])
    # Two documents parse (one queued), so the poller is on and both rows are watched.
    assert POLL_TRIGGER in page
    watched = re.findall(r'name="watch" value="(\w+)"', page)
    assert sorted(watched) == sorted([docs[1].pk, docs[2].pk])


def test_search_returns_only_the_matching_rows(alice: Client, dataset: Dataset) -> None:
    add_documents(dataset, ("walrus.txt", TEXT), ("seal.txt", TEXT))

    response = alice.get(url("dataset_detail", dataset.pk), {"keywords": "WALR"}, headers=HTMX)

    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<tbody id="document-rows">')
    assert "walrus.txt" in body and "seal.txt" not in body
    assert response["Vary"] and "HX-Request" in response["Vary"]
    nothing = alice.get(url("dataset_detail", dataset.pk), {"keywords": "orca"}, headers=HTMX)
    assert "No document names contain “orca”." in nothing.content.decode()


def test_search_without_javascript_renders_the_page(alice: Client, dataset: Dataset) -> None:
    add_documents(dataset, ("walrus.txt", TEXT), ("seal.txt", TEXT))

    page = alice.get(url("dataset_detail", dataset.pk), {"keywords": "seal"}).content.decode()

    assert "<html" in page and 'value="seal"' in page
    assert "seal.txt" in page and "walrus.txt" not in page


# --- upload ----------------------------------------------------------------------------------


def test_upload_creates_documents_and_sends_new_rows_out_of_band(
    alice: Client, dataset: Dataset
) -> None:
    response = upload(
        alice, dataset, ("walrus.txt", TEXT), ("notes.md", b"# Notes\n"), parse=False, headers=HTMX
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<form id="upload-form"')
    assert "Uploaded 2 files." in body and "Parsing has started" not in body
    assert 'hx-swap-oob="afterbegin:#document-rows"' in body
    assert "walrus.txt" in body and "notes.md" in body and "Not parsed" in body
    assert '<dl id="dataset-counters" class="stats" hx-swap-oob="true">' in body
    assert sorted(Document.objects.values_list("name", flat=True)) == ["notes.md", "walrus.txt"]
    assert Dataset.objects.get(pk=dataset.pk).document_count == 2
    # The fresh form remembers that the box was unticked.
    assert 'name="parse" id="id_parse" checked' not in body


def test_upload_with_parse_queues_and_parses_the_new_documents(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(alice, dataset, ("walrus.txt", TEXT), parse=True, headers=HTMX)

    body = response.content.decode()
    assert "Uploaded 1 file. Parsing has started." in body
    assert "Queued" in body and POLL_TRIGGER in body
    assert len(queued) == 1
    for callback in queued:  # what the worker would do
        callback()
    document = Document.objects.get()
    assert document.run == Run.DONE and document.chunk_count > 0
    updates = alice.get(url("document_updates", dataset.pk), {"watch": document.pk}, headers=HTMX)
    assert "Done" in updates.content.decode() and POLL_TRIGGER not in updates.content.decode()


def test_upload_of_a_bad_file_shows_one_line_per_file_and_stores_nothing(
    alice: Client, dataset: Dataset
) -> None:
    response = upload(
        alice,
        dataset,
        ("fine.txt", TEXT),
        ("virus.exe", b"MZ\x90\x00"),
        ("fake.pdf", b"just text, not a PDF"),
        parse=True,
        headers=HTMX,
    )

    body = response.content.decode()
    assert "Nothing was uploaded:" in body
    errors = re.findall(r"<li>(.*?)</li>", body.split('class="upload-errors"')[1])
    assert len(errors) == 2
    assert errors[0].startswith("virus.exe: ") and "fake.pdf is not a PDF file" in errors[1]
    assert 'hx-swap-oob="afterbegin' not in body
    assert not Document.objects.exists()


def test_upload_without_files_asks_for_some(alice: Client, dataset: Dataset) -> None:
    response = alice.post(url("upload_documents", dataset.pk), {"parse": "on"}, headers=HTMX)
    assert "Choose at least one file to upload." in response.content.decode()


def test_upload_over_the_limit_is_refused_before_reading(
    alice: Client, dataset: Dataset, settings: Any
) -> None:
    settings.RAGSITE_MAX_UPLOAD_BYTES = 100
    response = upload(alice, dataset, ("walrus.txt", TEXT), parse=False, headers=HTMX)
    assert "The upload is larger than the limit of 100\xa0bytes." in response.content.decode()
    assert not Document.objects.exists()


def test_upload_without_javascript_redirects_back_with_a_message(
    alice: Client, dataset: Dataset
) -> None:
    response = upload(alice, dataset, ("walrus.txt", TEXT), parse=False, follow=True)
    assert response.redirect_chain[-1][0] == url("dataset_detail", dataset.pk)
    assert "Uploaded 1 file." in response.content.decode()

    failed = upload(alice, dataset, ("virus.exe", b"MZ"), parse=False)
    assert failed.status_code == 200 and "<html" in failed.content.decode()
    assert "Nothing was uploaded:" in failed.content.decode()


# --- polling ---------------------------------------------------------------------------------


def test_updates_keep_polling_while_a_document_parses_and_stop_after(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    set_state(document, run=Run.RUNNING, progress=0.5)

    running = alice.get(url("document_updates", dataset.pk), {"watch": document.pk}, headers=HTMX)

    body = running.content.decode()
    assert POLL_TRIGGER in body
    assert (
        f'<tr id="document-{document.pk}" class="document-row is-running" hx-swap-oob="true">'
        in body
    )
    assert "Parsing 50%" in body

    set_state(document, run=Run.DONE, progress=1.0, chunk_count=3)
    Dataset.objects.filter(pk=dataset.pk).update(chunk_count=3, token_count=120)
    idle = alice.get(url("document_updates", dataset.pk), {"watch": document.pk}, headers=HTMX)

    body = idle.content.decode()
    assert POLL_TRIGGER not in body and 'id="document-poller"' in body
    assert "is-done" in body and 'name="watch"' not in body
    assert ">120</dd>" in body  # the counters come along


def test_updates_remove_rows_deleted_meanwhile(alice: Client, dataset: Dataset) -> None:
    response = alice.get(
        url("document_updates", dataset.pk), {"watch": ["0" * 32, "<b>"]}, headers=HTMX
    )
    body = response.content.decode()
    assert f'<tr id="document-{"0" * 32}" hx-swap-oob="delete">' in body
    assert "<b>" not in body and "document-&lt;b&gt;" in body


# --- actions on one document -------------------------------------------------------------------


def test_parse_queues_the_document_and_starts_the_poller(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = alice.post(url("parse_document", dataset.pk, document.pk), headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<tr id="document-{document.pk}" class="document-row is-queued'
    )
    assert POLL_TRIGGER in body and len(queued) == 1


def test_reparse_of_a_done_document_asks_first_and_replaces_chunks(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(url("parse_document", dataset.pk, document.pk), headers=HTMX)
    page = alice.get(url("dataset_detail", dataset.pk)).content.decode()
    assert "Parse “walrus.txt” again?" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(url("parse_document", dataset.pk, document.pk), headers=HTMX)

    document.refresh_from_db()
    assert document.run == Run.DONE
    assert Chunk.objects.filter(document=document).count() == document.chunk_count
    kb = Dataset.objects.get(pk=dataset.pk)
    assert kb.chunk_count == document.chunk_count
    assert f">{kb.chunk_count}</dd>" in response.content.decode()


def test_parse_of_a_document_mid_parse_shows_the_service_message(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    set_state(document, run=Run.RUNNING, progress=0.4)

    response = alice.post(url("parse_document", dataset.pk, document.pk), headers=HTMX)

    body = response.content.decode()
    assert "Can&#x27;t parse document that is currently being processed" in body
    assert 'hx-swap-oob="innerHTML"' in body and "is-running" in body


def test_stop_cancels_a_running_parse(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    set_state(document, run=Run.RUNNING, progress=0.4)

    response = alice.post(url("stop_parsing", dataset.pk, document.pk), headers=HTMX)

    assert "Cancelled" in response.content.decode()
    assert Document.objects.get(pk=document.pk).run == Run.CANCEL


def test_stop_after_the_parse_ended_shows_why_and_the_real_state(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    set_state(document, run=Run.DONE, progress=1.0)

    response = alice.post(url("stop_parsing", dataset.pk, document.pk), headers=HTMX)

    body = response.content.decode()
    assert "Can&#x27;t stop parsing document with progress at 0 or 1" in body
    assert "is-done" in body


def test_toggle_disables_and_enables_a_document_and_its_chunks(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(url("parse_document", dataset.pk, document.pk), headers=HTMX)

    off = alice.post(
        url("toggle_document", dataset.pk, document.pk), {"enabled": "0"}, headers=HTMX
    )

    assert 'aria-checked="false"' in off.content.decode() and "is-disabled" in off.content.decode()
    assert not Document.objects.get(pk=document.pk).enabled
    assert not Chunk.objects.filter(document=document, available=True).exists()
    alice.post(url("toggle_document", dataset.pk, document.pk), {"enabled": "1"}, headers=HTMX)
    assert Document.objects.get(pk=document.pk).enabled
    assert not Chunk.objects.filter(document=document, available=False).exists()


def test_delete_removes_the_document_and_updates_the_counters(
    alice: Client, dataset: Dataset
) -> None:
    walrus, _seal = add_documents(dataset, ("walrus.txt", TEXT), ("seal.txt", TEXT))

    response = alice.post(url("delete_document", dataset.pk, walrus.pk), headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith("<template>")  # no row comes back
    assert "Deleted “walrus.txt”." in body
    assert ">1</dd>" in body
    assert list(Document.objects.values_list("name", flat=True)) == ["seal.txt"]


def test_actions_without_javascript_redirect_back_with_a_message(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))

    response = alice.post(url("delete_document", dataset.pk, document.pk), follow=True)

    assert response.redirect_chain[-1][0] == url("dataset_detail", dataset.pk)
    assert "Deleted “walrus.txt”." in response.content.decode()


def test_download_returns_the_original_bytes_under_the_original_name(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("海象 notes.txt", TEXT))

    response = alice.get(url("download_document", dataset.pk, document.pk))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TEXT
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%B5%B7%E8%B1%A1%20notes.txt" in response["Content-Disposition"]


def test_download_of_an_empty_file_explains_instead(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("empty.txt", b"x"))
    Document.objects.filter(pk=document.pk).update(size=0)  # empty files are refused on upload
    page = alice.get(url("dataset_detail", dataset.pk)).content.decode()
    assert url("download_document", dataset.pk, document.pk) not in page

    response = alice.get(url("download_document", dataset.pk, document.pk), follow=True)

    assert "“empty.txt” is empty: there is nothing to download." in response.content.decode()


# --- settings ----------------------------------------------------------------------------------


def test_settings_form_opens_in_the_dialog_with_current_values(
    alice: Client, dataset: Dataset
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))

    body = alice.get(url("document_settings", dataset.pk, document.pk), headers=HTMX)

    html = body.content.decode()
    assert "<html" not in html and 'id="document-dialog-title"' in html
    assert 'value="walrus.txt"' in html and 'value="512"' in html and 'value="\\n"' in html
    methods = re.findall(r'<option value="(\w+)"', html)
    assert "knowledge_graph" not in methods and "tag" not in methods and "qa" in methods


def test_settings_save_renames_and_changes_chunking(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    form = {
        "name": "walruses.txt",
        "chunk_method": "qa",
        "chunk_token_num": "256",
        "delimiter": "\\n。",
    }

    response = alice.post(url("document_settings", dataset.pk, document.pk), form, headers=HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith("<template>")  # nothing for the dialog: it closes
    assert "walruses.txt" in body and 'hx-swap-oob="true"' in body and "Q&amp;A" in body
    document.refresh_from_db()
    assert (document.name, document.chunk_method) == ("walruses.txt", "qa")
    assert document.parser_config["chunk_token_num"] == 256
    assert document.parser_config["delimiter"] == "\\n。"


def test_settings_sends_only_what_changed(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    set_state(document, run=Run.DONE, progress=1.0)
    form = {
        "name": "walrus.txt",
        "chunk_method": "naive",
        "chunk_token_num": "300",
        "delimiter": "\\n",
    }

    alice.post(url("document_settings", dataset.pk, document.pk), form, headers=HTMX)

    document.refresh_from_db()
    # The chunk method did not change, so the document keeps its parse state.
    assert document.run == Run.DONE and document.parser_config["chunk_token_num"] == 300


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "walrus.pdf", "The extension of file can&#x27;t be changed"),
        ("chunk_token_num", "4096", "Ensure this value is less than or equal to 2048."),
        ("chunk_token_num", "0", "Ensure this value is greater than or equal to 1."),
        ("delimiter", "", "This field is required."),
    ],
)
def test_settings_errors_show_in_the_dialog(
    alice: Client, dataset: Dataset, field: str, value: str, message: str
) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    form = {
        "name": "walrus.txt",
        "chunk_method": "naive",
        "chunk_token_num": "512",
        "delimiter": "\\n",
    }
    form[field] = value

    response = alice.post(url("document_settings", dataset.pk, document.pk), form, headers=HTMX)

    body = response.content.decode()
    assert message in body and 'id="document-dialog-title"' in body
    assert Document.objects.get(pk=document.pk).name == "walrus.txt"


def test_settings_keep_the_chunk_method_of_images_fixed(alice: Client, dataset: Dataset) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    (image,) = add_documents(dataset, ("scan.png", png))
    form = {
        "name": "scan2.png",
        "chunk_method": "naive",
        "chunk_token_num": "512",
        "delimiter": "\\n",
    }

    page = alice.get(url("document_settings", dataset.pk, image.pk), headers=HTMX)
    response = alice.post(url("document_settings", dataset.pk, image.pk), form, headers=HTMX)

    assert "disabled" in page.content.decode().split('name="chunk_method"')[1].split(">")[0]
    assert "Not supported yet" not in response.content.decode()
    image.refresh_from_db()
    assert (image.name, image.chunk_method) == ("scan2.png", "picture")


def test_settings_without_javascript_is_a_page(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    page = alice.get(url("document_settings", dataset.pk, document.pk)).content.decode()
    assert "<html" in page and "Settings of “walrus.txt”" in page


# --- bulk actions ------------------------------------------------------------------------------


def test_parse_selected_queues_only_the_ticked_documents(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    one, two, three = add_documents(dataset, *[(f"doc{i}.txt", TEXT) for i in range(3)])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = alice.post(
            url("parse_selected", dataset.pk), {"ids": [one.pk, three.pk]}, headers=HTMX
        )

    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="document-rows">')
    assert "Queued 2 documents for parsing." in body and len(queued) == 2
    runs = dict(Document.objects.values_list("pk", "run"))
    assert (runs[one.pk], runs[two.pk], runs[three.pk]) == (Run.RUNNING, Run.UNSTART, Run.RUNNING)


def test_delete_selected_deletes_only_the_ticked_documents(alice: Client, dataset: Dataset) -> None:
    one, two = add_documents(dataset, ("one.txt", TEXT), ("two.txt", TEXT))

    response = alice.post(url("delete_selected", dataset.pk), {"ids": [one.pk]}, headers=HTMX)

    assert "Deleted 1 document." in response.content.decode()
    assert list(Document.objects.values_list("pk", flat=True)) == [two.pk]


@pytest.mark.parametrize("action", ["delete_selected", "parse_selected"])
def test_bulk_actions_with_nothing_ticked_do_nothing(
    alice: Client, dataset: Dataset, action: str
) -> None:
    add_documents(dataset, ("one.txt", TEXT), ("two.txt", TEXT))

    response = alice.post(url(action, dataset.pk), {"keywords": ""}, headers=HTMX)

    # To the delete service, no ids means every document: the view must not pass that on.
    assert "Select one or more documents first." in response.content.decode()
    assert set(Document.objects.values_list("run", flat=True)) == {Run.UNSTART}
    assert Document.objects.count() == 2


def test_bulk_actions_keep_the_search_filter(alice: Client, dataset: Dataset) -> None:
    one, _two = add_documents(dataset, ("walrus.txt", TEXT), ("seal.txt", TEXT))

    response = alice.post(
        url("parse_selected", dataset.pk), {"ids": [one.pk], "keywords": "walrus"}, headers=HTMX
    )

    assert "seal.txt" not in response.content.decode()


# --- who may do what ---------------------------------------------------------------------------

GET_VIEWS = ["dataset_detail", "document_updates"]
POST_VIEWS = ["upload_documents", "parse_selected", "delete_selected"]
DOCUMENT_GET_VIEWS = ["download_document", "document_settings"]
DOCUMENT_POST_VIEWS = [
    "parse_document",
    "stop_parsing",
    "toggle_document",
    "delete_document",
    "document_settings",
]


def all_requests(dataset_id: str, document_id: str) -> list[tuple[str, str]]:
    return [
        *[("get", url(name, dataset_id)) for name in GET_VIEWS],
        *[("post", url(name, dataset_id)) for name in POST_VIEWS],
        *[("get", url(name, dataset_id, document_id)) for name in DOCUMENT_GET_VIEWS],
        *[("post", url(name, dataset_id, document_id)) for name in DOCUMENT_POST_VIEWS],
    ]


@pytest.mark.parametrize("permission", ["me", "team"])
def test_another_users_dataset_and_documents_are_404(
    alice: Client, other_tenant: User, permission: str
) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret", permission=permission)
    (document,) = add_documents(theirs, ("secret.txt", TEXT))

    for method, path in all_requests(theirs.pk, document.pk):
        response = getattr(alice, method)(path, headers=HTMX)
        assert response.status_code == 404, (method, path)
    assert Document.objects.get(pk=document.pk).run == Run.UNSTART


def test_a_document_of_another_dataset_is_404(
    alice: Client, dataset: Dataset, other_tenant: User
) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret")
    (document,) = add_documents(theirs, ("secret.txt", TEXT))

    for name in ["download_document", "document_settings"]:
        assert alice.get(url(name, dataset.pk, document.pk)).status_code == 404
    for name in DOCUMENT_POST_VIEWS:
        assert alice.post(url(name, dataset.pk, document.pk), headers=HTMX).status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()


def test_team_mates_see_a_team_dataset_read_only_and_may_download(
    alice: Client, tenant: User, other_tenant: User
) -> None:
    team = Group.objects.create(name="support")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    shared = dataset_create(tenant=other_tenant, name="team-faq", permission="team")
    (document,) = add_documents(shared, ("faq.txt", TEXT))
    set_state(document, run=Run.RUNNING, progress=0.5)

    page = alice.get(url("dataset_detail", shared.pk)).content.decode()

    assert "team-faq" in page and "Shared by charlie · read-only" in page
    assert 'id="upload-form"' not in page and 'id="bulk-form"' not in page
    assert 'name="ids"' not in page
    for action in ["stop_parsing", "document_settings", "delete_document", "toggle_document"]:
        assert url(action, shared.pk, document.pk) not in page
    assert POLL_TRIGGER in page  # they still watch it parse
    assert alice.get(url("download_document", shared.pk, document.pk)).status_code == 200
    updates = alice.get(url("document_updates", shared.pk), {"watch": document.pk}, headers=HTMX)
    assert (
        "Parsing 50%" in updates.content.decode() and 'name="ids"' not in updates.content.decode()
    )
    for method, path in all_requests(shared.pk, document.pk):
        if method == "post" or "settings" in path:
            assert getattr(alice, method)(path, headers=HTMX).status_code == 404, path


def test_views_answer_only_their_methods(alice: Client, dataset: Dataset) -> None:
    (document,) = add_documents(dataset, ("walrus.txt", TEXT))
    assert alice.post(url("dataset_detail", dataset.pk)).status_code == 405
    assert alice.get(url("upload_documents", dataset.pk)).status_code == 405
    assert alice.get(url("delete_document", dataset.pk, document.pk)).status_code == 405
    assert alice.post(url("download_document", dataset.pk, document.pk)).status_code == 405


def test_anonymous_users_are_sent_to_log_in(client: Client, dataset: Dataset) -> None:
    response = client.get(url("dataset_detail", dataset.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- language -----------------------------------------------------------------------------------


def test_dataset_page_in_chinese(alice: Client, dataset: Dataset) -> None:
    docs = add_documents(dataset, ("walrus.txt", TEXT), ("seal.txt", TEXT))
    set_state(docs[0], run=Run.RUNNING, progress=0.42)
    set_state(docs[1], run=Run.FAIL, progress=-1, progress_msg="10:00:00 [ERROR] broken")

    page = alice.get(url("dataset_detail", dataset.pk), HTTP_ACCEPT_LANGUAGE="zh-hans")

    html = page.content.decode()
    for text in ["添加文档", "文档", "解析中 42%", "失败", "完整日志", "解析所选", "删除所选"]:
        assert text in html, text
