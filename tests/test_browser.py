"""The HTMX pages in a real browser: Debian's Chromium driven by Playwright against live Daphne.

Set RAGSITE_SCREENSHOTS=<dir> to keep screenshots of each step (useful when changing the design).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings
from django.core.files.base import ContentFile
from django.utils import timezone

from knowledge.models import Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "bob-password-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium fonts-wqy-microhei)",
    ),
]


@pytest.fixture
def bob(transactional_db: None, settings: Any) -> User:
    # The live server checks passwords with the real hashers, not the tests' fast MD5 one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    # Created before Playwright starts: its event loop makes later sync ORM calls in this
    # thread raise SynchronousOnlyOperation.
    return User.objects.create_user("bob", "bob@example.com", PASSWORD)


@contextmanager
def browser_page(tmp_path: Path, **context_options: Any) -> Iterator[Any]:
    """A fresh Chromium page; on failure, a full-page screenshot is saved and its path printed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**context_options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            yield page
        except BaseException:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failing page: {shot}")
            raise
        finally:
            browser.close()


def snapshot(page: Any, name: str) -> None:
    if directory := os.environ.get("RAGSITE_SCREENSHOTS"):
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "bob")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_browser_creates_edits_and_deletes_a_dataset_without_reloading(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        expect(page.locator("h1")).to_have_text("Knowledge bases")
        expect(page.locator(".empty-state")).to_be_visible()
        snapshot(page, "datasets-empty")

        # A flag on window survives only if the page is never reloaded.
        page.evaluate("window.__sameDocument = true")
        form = page.locator("#create-dataset-form")
        form.locator("#id_name").fill("Field manuals")
        form.locator("#id_description").fill("Service manuals for every device we sell.")
        form.locator("#id_chunk_method").select_option("manual")
        form.get_by_role("button", name="Create knowledge base").click()

        card = page.locator("#dataset-list article", has_text="Field manuals")
        expect(card).to_be_visible()
        expect(card).to_contain_text("Manual")
        expect(card).to_contain_text("Only me")
        expect(page.locator(".empty-state")).to_be_hidden()
        expect(page.locator("#create-dataset-form #id_name")).to_have_value("")
        expect(page.locator("#create-dataset-form [role=status]")).to_contain_text("Field manuals")
        assert page.evaluate("window.__sameDocument") is True

        # An invalid name: the error shows inline and no card appears.
        page.locator("#create-dataset-form #id_name").fill("x" * 130)
        page.get_by_role("button", name="Create knowledge base").click()
        expect(page.locator("#create-dataset-form .errorlist")).to_contain_text("too long")
        expect(page.locator("#dataset-list article")).to_have_count(1)
        snapshot(page, "datasets-one")

        # Edit in place.
        card.get_by_role("link", name="Edit").click()
        editing = page.locator("#dataset-list article.is-editing")
        editing.get_by_label("Name").fill("Field manuals 2026")
        editing.get_by_role("button", name="Save").click()
        expect(page.locator("#dataset-list article", has_text="Field manuals 2026")).to_be_visible()
        expect(page.locator("#dataset-list article.is-editing")).to_have_count(0)

        # Delete after confirming; the card goes and the empty state comes back.
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#dataset-list article").get_by_role("button", name="Delete").click()
        expect(page.locator("#dataset-list article")).to_have_count(0)
        expect(page.locator(".empty-state")).to_be_visible()
        assert page.evaluate("window.__sameDocument") is True

        # A request that fails (here: deleted meanwhile in another tab) says so instead of
        # silently doing nothing.
        page.locator("#create-dataset-form #id_name").fill("Short-lived")
        page.get_by_role("button", name="Create knowledge base").click()
        expect(page.locator("#dataset-list article")).to_have_count(1)
        other_tab = page.context.new_page()
        other_tab.goto(f"{live_server_url}/")
        other_tab.once("dialog", lambda dialog: dialog.accept())
        other_tab.get_by_role("button", name="Delete").click()
        expect(other_tab.locator("#dataset-list article")).to_have_count(0)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        expect(page.locator("#request-errors")).to_contain_text("Reload the page")


def test_browser_shows_a_new_api_key_once_and_revokes_it(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, permissions=["clipboard-read", "clipboard-write"]) as page:
        log_in(page, live_server_url)
        page.get_by_role("navigation").get_by_role("link", name="API keys").click()
        page.wait_for_url(f"{live_server_url}/keys/")
        expect(page.locator(".empty-state")).to_contain_text("no API keys")

        page.evaluate("window.__sameDocument = true")
        page.get_by_label("Name (optional)").fill("notebook")
        page.get_by_role("button", name="Create key").click()

        new_key = page.locator("#new-api-key")
        expect(new_key).to_have_text(re.compile(r"^ragflow-\S+$"))
        raw_key = new_key.inner_text()
        assert len(raw_key) > 30
        expect(page.locator(".new-key")).to_contain_text("will not be shown again")
        assert page.evaluate("window.__sameDocument") is True
        row = page.locator("tr", has_text="notebook")
        expect(row).to_contain_text(raw_key[:14] + "…")
        expect(row).to_contain_text("Active")

        # Focus lands on the Copy button, so Enter copies.
        expect(page.get_by_role("button", name="Copy")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Copied!")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == raw_key
        snapshot(page, "api-key-created")

        # Once only: a reload shows the prefix, never the key.
        page.reload()
        expect(page.locator("#new-api-key")).to_have_count(0)
        assert raw_key not in page.content()
        expect(page.locator("tr", has_text="notebook")).to_contain_text(raw_key[:14])

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("tr", has_text="notebook").get_by_role("button", name="Revoke").click()
        expect(page.locator("tr", has_text="notebook")).to_contain_text("Revoked")


def test_browser_follows_the_browser_language_and_the_switcher(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with browser_page(tmp_path, locale="zh-CN") as page:
        page.goto(f"{live_server_url}/accounts/login/")
        expect(page.locator("h1")).to_have_text("登录 ragsite")
        page.fill("#id_username", "bob")
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(f"{live_server_url}/")
        expect(page.locator("h1")).to_have_text("知识库")
        snapshot(page, "datasets-zh")

        page.locator(".site-header").get_by_role("button", name="English").click()
        expect(page.locator("h1")).to_have_text("Knowledge bases")
        expect(page.locator("html")).to_have_attribute("lang", "en")


# --- a knowledge base's documents ----------------------------------------------------------------

WALRUS = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 40
NOTES = (
    b"# Field notes\n\nSeals haul out on the northern spit at low tide.\n\n"
    b"## Gear\n\nBinoculars, tally counter.\n"
)


def text_file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": data}


def counter(page: Any, label: str) -> Any:
    return page.locator("#dataset-counters .stat", has_text=label).locator("dd")


def test_browser_uploads_two_files_and_watches_them_parse_live(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = dataset_create(tenant=bob, name="Field notes", description="Walrus counts")
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.get_by_role("link", name="Field notes", exact=True).click()
        page.wait_for_url(f"{live_server_url}/datasets/{dataset.pk}/")
        expect(page.locator("h1")).to_have_text("Field notes")
        expect(page.locator("#document-rows .empty-row")).to_be_visible()
        expect(page.get_by_label("Parse after upload")).to_be_checked()

        page.evaluate("window.__sameDocument = true")
        # What a drop does too: the drop zone's file input gets the files and the form posts.
        page.set_input_files(
            "#upload-form input[type=file]",
            files=[text_file("walrus.txt", WALRUS), text_file("notes.md", NOTES)],
        )
        expect(page.locator("#upload-form .alert--success")).to_contain_text("Uploaded 2 files.")
        rows = page.locator("#document-rows tr.document-row")
        expect(rows).to_have_count(2)
        expect(page.locator("#document-rows .empty-row")).to_be_hidden()
        expect(counter(page, "Documents")).to_have_text("2")
        snapshot(page, "documents-uploaded")

        # The worker loads the embedding model on its first parse, hence the long wait.
        walrus = page.locator("tr.document-row", has_text="walrus.txt")
        notes = page.locator("tr.document-row", has_text="notes.md")
        expect(walrus.locator(".badge")).to_have_text("Done", timeout=90_000)
        expect(notes.locator(".badge")).to_have_text("Done", timeout=30_000)
        expect(page.locator("#document-poller[hx-trigger]")).to_have_count(0)
        expect(counter(page, "Chunks")).not_to_have_text("0")
        assert page.evaluate("window.__sameDocument") is True
        snapshot(page, "documents-parsed")

        with page.expect_download() as download_info:
            walrus.get_by_role("link", name="walrus.txt", exact=True).click()
        download = download_info.value
        assert download.suggested_filename == "walrus.txt"
        assert Path(download.path()).read_bytes() == WALRUS


def test_browser_searches_edits_toggles_and_deletes_documents(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = dataset_create(tenant=bob, name="Scratch")
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        page.evaluate("window.__sameDocument = true")
        page.get_by_label("Parse after upload").uncheck()
        page.set_input_files(
            "#upload-form input[type=file]",
            files=[
                text_file("alpha.txt", b"alpha " * 50),
                text_file("beta.txt", b"beta " * 50),
                text_file("gamma.md", b"# gamma\n"),
            ],
        )
        rows = page.locator("#document-rows tr.document-row")
        expect(rows).to_have_count(3)
        expect(rows.locator(".badge")).to_have_text(["Not parsed"] * 3)
        expect(page.get_by_label("Parse after upload")).not_to_be_checked()

        # A file the server refuses: one line says which and why; nothing is added.
        page.set_input_files(
            "#upload-form input[type=file]", files=[text_file("tool.exe", b"MZ\x90\x00")]
        )
        expect(page.locator("#upload-form .upload-errors")).to_contain_text("tool.exe:")
        expect(rows).to_have_count(3)

        page.get_by_placeholder("Search by name").fill("gam")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("gamma.md")
        assert "keywords=gam" in page.url
        page.get_by_placeholder("Search by name").fill("")
        expect(rows).to_have_count(3)

        # Settings open in a dialog; saving closes it and redraws the row.
        alpha = page.locator("tr.document-row", has_text="alpha.txt")
        alpha.get_by_role("link", name="Settings").click()
        dialog = page.locator("#document-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Name")).to_be_focused()
        dialog.get_by_label("Name").fill("alpha-renamed.txt")
        dialog.get_by_label("Chunk size (tokens)").fill("128")
        dialog.get_by_label("Chunk method").select_option("qa")
        snapshot(page, "document-settings")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()
        renamed = page.locator("tr.document-row", has_text="alpha-renamed.txt")
        expect(renamed).to_contain_text("Q&A")
        expect(page.locator("#document-messages")).to_contain_text("Saved the settings")

        # A change the service refuses stays in the dialog with its reason.
        beta = page.locator("tr.document-row", has_text="beta.txt")
        beta.get_by_role("link", name="Settings").click()
        dialog.get_by_label("Name").fill("beta.pdf")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.locator(".alert--error")).to_contain_text("extension")
        dialog.get_by_role("link", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(beta).to_contain_text("beta.txt")

        gamma = page.locator("tr.document-row", has_text="gamma.md")
        gamma.get_by_role("switch").click()
        expect(gamma.get_by_role("switch")).to_have_attribute("aria-checked", "false")
        expect(gamma).to_have_class(re.compile(r"\bis-disabled\b"))

        page.get_by_label("Select all documents").check()
        expect(page.locator("#bulk-form")).to_contain_text("3 selected")
        page.once("dialog", lambda confirm: confirm.accept())
        page.get_by_role("button", name="Delete selected").click()
        expect(rows).to_have_count(0)
        expect(page.locator("#document-rows .empty-row")).to_be_visible()
        expect(page.locator("#document-messages")).to_contain_text("Deleted 3 documents.")
        expect(counter(page, "Documents")).to_have_text("0")
        expect(page.get_by_role("button", name="Delete selected")).to_be_disabled()
        assert page.evaluate("window.__sameDocument") is True


def make_documents_in_every_state(owner: User) -> Dataset:
    """A knowledge base whose documents show each parse state, set directly in the database."""
    dataset = dataset_create(
        tenant=owner,
        name="Arctic wildlife survey 2026",
        description="Counts, field notes and photos from the Kolguev expedition.",
    )
    names = [
        "expedition-plan.pdf",
        "walrus-counts-2019-2026-final-version-with-corrections.csv",
        "field-notes.md",
        "photo-log.txt",
        "seal-haul-out-sites.txt",
        "broken-scan.pdf",
    ]
    uploads = [
        Upload(name=n, file=ContentFile(data), size=len(data))
        for n in names
        for data in [b"%PDF-1.4\n" * 300 if n.endswith(".pdf") else b"walrus, 4312\n" * 200]
    ]
    docs = {d.name: d for d in document_upload(tenant=owner, dataset=dataset, uploads=uploads)}
    Run = Document.Run
    Document.objects.filter(pk=docs["expedition-plan.pdf"].pk).update(
        run=Run.DONE, progress=1, chunk_count=148, process_duration=12.4
    )
    Document.objects.filter(pk=docs[names[1]].pk).update(
        run=Run.RUNNING,
        progress=0.37,
        progress_msg="10:00:00 Task has been received.\n10:00:02 Embedding 32/87.",
        heartbeat_at=timezone.now() + timedelta(days=1),
    )
    Document.objects.filter(pk=docs["field-notes.md"].pk).update(
        run=Run.RUNNING, progress=0, heartbeat_at=timezone.now() + timedelta(days=1)
    )
    Document.objects.filter(pk=docs["photo-log.txt"].pk).update(run=Run.CANCEL, enabled=False)
    Document.objects.filter(pk=docs["broken-scan.pdf"].pk).update(
        run=Run.FAIL,
        progress=-1,
        progress_msg="10:00:00 Task has been received.\n10:00:01 Start to parse.\n"
        "10:00:02 [ERROR] broken-scan.pdf could not be read: the PDF is damaged or encrypted "
        "(no page tree found). Try saving it again from the program that made it.",
    )
    Dataset.objects.filter(pk=dataset.pk).update(chunk_count=148, token_count=61234)
    return dataset


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_browser_dataset_page_fits_every_state_from_desktop_to_phone(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path, locale: str
) -> None:
    from playwright.sync_api import expect

    dataset = make_documents_in_every_state(bob)
    with browser_page(tmp_path, locale=locale) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        expect(page.locator("#document-rows tr.document-row")).to_have_count(6)
        expect(page.locator("tr.is-fail .parse-state__error")).to_contain_text("damaged")
        expect(page.locator("tr.is-running progress")).to_have_attribute("value", "37")
        page.locator("tr.is-fail details summary").click()
        for device, width in [("desktop", 1280), ("tablet", 1024), ("phone", 390)]:
            page.set_viewport_size({"width": width, "height": 900})
            # Nothing may stick out sideways, on a phone least of all.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{device}: the page is {overflow}px wider than the window"
            snapshot(page, f"dataset-states-{device}-{locale}")


# --- a document's chunks and retrieval testing ------------------------------------------------------


def test_browser_adds_a_chunk_by_hand_edits_it_and_switches_it_off(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = dataset_create(tenant=bob, name="Field notes")
    (document,) = document_upload(
        tenant=bob,
        dataset=dataset,
        uploads=[Upload(name="walrus.txt", file=ContentFile(WALRUS), size=len(WALRUS))],
    )
    chunk_add(document=document, content="Seals haul out on the northern spit at low tide.")
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        row = page.locator("tr.document-row", has_text="walrus.txt")
        expect(row.get_by_role("link", name="View chunks walrus.txt", exact=True)).to_be_visible()
        row.get_by_role("link", name="1 chunk of “walrus.txt”").click()
        page.wait_for_url(re.compile(rf"/documents/{document.pk}/chunks/$"))
        expect(page.locator("h1")).to_have_text("walrus.txt")
        cards = page.locator("#chunk-list article.chunk")
        expect(cards).to_have_count(1)
        counters = page.locator("#chunk-counters .stat__value")
        expect(counters.nth(0)).to_have_text("1")

        page.evaluate("window.__sameDocument = true")
        page.get_by_text("Add a chunk").click()
        form = page.locator("#chunk-add-form")
        form.get_by_label("Text").fill(
            "The walrus colony on Kolguev island was counted at 4312 animals in 2019."
        )
        form.get_by_label("Keywords").fill("walrus, Kolguev")
        form.get_by_label("Questions").fill("How many walruses live on Kolguev?")
        form.get_by_role("button", name="Add chunk").click()
        # Embedded in the web process: the first time loads the model.
        expect(form.locator(".alert--success")).to_contain_text("Chunk added", timeout=60_000)
        expect(cards).to_have_count(2)
        expect(page.locator("article.chunk.is-marked")).to_contain_text("Kolguev island")
        # Found by id from here on: redrawn cards are no longer marked as new.
        added = page.locator("#" + page.locator("article.chunk.is-marked").get_attribute("id"))
        expect(added.locator(".tag")).to_have_text(
            ["walrus", "Kolguev", "How many walruses live on Kolguev?"]
        )
        expect(counters.nth(0)).to_have_text("2")
        expect(counters.nth(2)).to_have_text("2 chunks")
        expect(form.get_by_label("Text")).to_have_value("")
        snapshot(page, "chunks-added")

        # Switch it off and on again; focus stays on the switch.
        switch = added.get_by_role("switch")
        switch.click()
        expect(added.get_by_role("switch")).to_have_attribute("aria-checked", "false")
        expect(added).to_have_class(re.compile(r"\bis-unavailable\b"))
        expect(added.get_by_role("switch")).to_be_focused()
        added.get_by_role("switch").click()
        expect(added.get_by_role("switch")).to_have_attribute("aria-checked", "true")

        # Edit in place: the text box gets focus, saving brings the card back.
        added.get_by_role("link", name="Edit").click()
        editing = page.locator("article.chunk.is-editing")
        expect(editing.get_by_label("Text")).to_be_focused()
        editing.get_by_label("Text").fill("The walrus colony was counted at 4312 animals.")
        snapshot(page, "chunks-editing")
        editing.get_by_role("button", name="Save").click()
        expect(page.locator("article.chunk.is-editing")).to_have_count(0)
        expect(page.locator("#chunk-list")).to_contain_text("counted at 4312 animals.")
        expect(page.locator("#chunk-messages")).to_contain_text("Saved chunk")
        for device, width in [("phone", 390), ("desktop", 1280)]:
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{device}: the page is {overflow}px wider than the window"
            snapshot(page, f"chunks-{device}")

        # Search highlights; delete the ticked chunk after confirming.
        page.get_by_placeholder("Search the text").fill("walrus")
        expect(cards).to_have_count(1)
        expect(cards.locator(".chunk__text mark")).to_have_text("walrus")
        cards.first.locator("input[name=ids]").check()
        expect(page.locator("#chunk-bulk-form")).to_contain_text("1 selected")
        page.once("dialog", lambda confirm: confirm.accept())
        page.get_by_role("button", name="Delete selected").click()
        expect(page.locator("#chunk-messages")).to_contain_text("Deleted 1 chunk.")
        expect(page.locator("#chunk-list .empty-state")).to_contain_text("No chunk contains")
        expect(counters.nth(0)).to_have_text("1")
        assert page.evaluate("window.__sameDocument") is True


RETRIEVAL_FACTS = [
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Walrus calves stay with their mothers for two years on the Kolguev shore.",
    "Lighthouse keepers sounded the fog signal every morning at dawn.",
    "Tax forms for the fiscal year are due at the end of April.",
    "Seals haul out on the northern spit at low tide.",
]


def test_browser_retrieval_test_shows_ranked_hits_with_highlights_and_scores(
    transactional_db: None, live_server_url: str, bob: User, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dataset = dataset_create(tenant=bob, name="Arctic survey")
    documents = document_upload(
        tenant=bob,
        dataset=dataset,
        uploads=[
            Upload(name=name, file=ContentFile(b"notes"), size=5)
            for name in ["walrus-counts.txt", "misc-notes.md"]
        ],
    )
    for index, text in enumerate(RETRIEVAL_FACTS):
        chunk_add(document=documents[0 if index < 2 else 1], content=text)
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/")
        page.get_by_role("link", name="Retrieval test").click()
        page.wait_for_url(re.compile(r"/retrieval/$"))
        expect(page.get_by_role("link", name="Retrieval test")).to_have_attribute(
            "aria-current", "page"
        )
        expect(page.locator("#retrieval-results .empty-state")).to_be_visible()
        snapshot(page, "retrieval-empty")

        page.evaluate("window.__sameDocument = true")
        page.get_by_label("Similarity threshold").fill("0.1")
        expect(
            page.locator('output[data-range-output="retrieval-similarity_threshold"]')
        ).to_have_text("0.10")
        page.get_by_label("Question").fill("How many walrus live on Kolguev?")
        page.get_by_label("Question").press("Enter")

        hits = page.locator("#retrieval-results li.hit")
        expect(hits.first).to_be_visible(timeout=60_000)
        first = hits.first
        expect(first.locator(".hit__rank")).to_have_text("1")
        expect(first.locator(".hit__text")).to_contain_text("walrus")
        expect(first.locator(".hit__text mark").first).to_be_visible()
        highlighted = {t.lower() for t in first.locator(".hit__text mark").all_inner_texts()}
        assert {"walrus", "kolguev"} <= highlighted, highlighted
        expect(first.locator(".score dt")).to_have_text(["Similarity", "Semantic", "Keyword"])
        for value in first.locator(".score__value").all_inner_texts():
            assert 0 <= float(value) <= 1, value
        expect(first.locator(".hit__document")).to_have_text("walrus-counts.txt")
        expect(page.locator(".doc-aggs")).to_contain_text("walrus-counts.txt")
        expect(page.locator(".retrieval-summary")).to_contain_text("match")
        assert "question=" in page.url
        snapshot(page, "retrieval-results-desktop")

        # Moving the slider to the keyword end searches again by itself.
        page.get_by_label("Keyword ↔ Semantic").fill("0")
        expect(
            page.locator('output[data-range-output="retrieval-vector_similarity_weight"]')
        ).to_have_text("0.00")
        expect(page).to_have_url(re.compile(r"vector_similarity_weight=0(&|$)"))
        first = hits.first
        expect(first.locator(".score--semantic .score__value")).not_to_have_text("")
        similarity = first.locator(".score--similarity .score__value").inner_text()
        keyword = first.locator(".score--keyword .score__value").inner_text()
        assert similarity == keyword, (similarity, keyword)

        # The chunk link opens it, marked, in the document's chunk browser.
        first.get_by_role("link", name="Open in the chunk browser").click()
        page.wait_for_url(re.compile(r"/chunks/\?chunk=\w+#chunk-\w+$"))
        expect(page.locator("article.chunk.is-marked")).to_contain_text("walrus", ignore_case=True)
        page.go_back()
        expect(hits.first).to_be_visible()

        for device, width in [("tablet", 1024), ("phone", 390)]:
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{device}: the page is {overflow}px wider than the window"
            snapshot(page, f"retrieval-results-{device}")
