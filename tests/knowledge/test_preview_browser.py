"""The document preview in Chromium against live Daphne: from a retrieval hit, one click opens
the PDF page the chunk is on, the page image loads and the outline sits where the positions say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from django.core.files.base import ContentFile

from knowledge.services.chunks import ChunkChanges, chunk_add, chunk_update
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User
from tests.knowledge.parsing import builders
from tests.test_browser import CHROMIUM, bob, browser_page, log_in, snapshot

__all__ = ["bob"]  # the fixture, shared with tests/test_browser.py

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]

PAGES = [
    "Field notes, first page: nothing about animals here.",
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
]


def text_box(data: bytes, number: int) -> tuple[float, float, float, float]:
    """x0, x1, top, bottom (points from the top-left) around every character of a page, as a
    PDF reader's positions would be."""
    page = pdfium.PdfDocument(data)[number - 1]
    height = page.get_size()[1]
    textpage = page.get_textpage()
    boxes = [textpage.get_charbox(i) for i in range(textpage.count_chars())]
    left = min(b[0] for b in boxes)
    right = max(b[2] for b in boxes)
    return left, right, height - max(b[3] for b in boxes), height - min(b[1] for b in boxes)


def use_live_media(settings: Any, live_workdir: Path) -> None:
    """Store originals where the live Daphne reads them (the session's media folder)."""
    media = str(live_workdir / "media")
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media},
        },
    }


def test_a_retrieval_hit_opens_the_page_with_the_chunk_outlined(
    transactional_db: None,
    live_server_url: str,
    live_workdir: Path,
    bob: User,
    tmp_path: Path,
    settings: Any,
) -> None:
    from playwright.sync_api import expect

    use_live_media(settings, live_workdir)
    data = builders.text_pdf_bytes(PAGES)
    width, height = pdfium.PdfDocument(data)[1].get_size()
    X0, X1, TOP, BOTTOM = text_box(data, 2)  # noqa: N806 - the four numbers of a position
    dataset = dataset_create(tenant=bob, name="Arctic survey")
    (document,) = document_upload(
        tenant=bob,
        dataset=dataset,
        uploads=[Upload(name="survey.pdf", file=ContentFile(data), size=len(data))],
    )
    chunk = chunk_add(document=document, content=PAGES[1])
    chunk_update(
        document=document,
        chunk_id=chunk.pk,
        changes=ChunkChanges(positions=[[2, X0, X1, TOP, BOTTOM]]),
    )

    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/datasets/{dataset.pk}/retrieval/")
        page.get_by_label("Question").fill("How many walrus live on Kolguev?")
        page.get_by_label("Question").press("Enter")
        hit = page.locator("#retrieval-results li.hit").first
        expect(hit).to_be_visible(timeout=60_000)

        hit.get_by_role("link", name="Show in document").click()
        page.wait_for_url(re.compile(rf"/documents/{document.pk}/preview/\?chunk={chunk.pk}$"))
        expect(page.locator(".preview__count")).to_have_text("Page 2 of 2")
        image = page.locator("img.preview__image")
        expect(image).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("img => img.naturalWidth") == 1240
        sheet = page.locator(".preview__sheet").bounding_box()
        box = page.locator(".preview__box").bounding_box()
        assert sheet is not None and box is not None
        scale_x, scale_y = sheet["width"] / width, sheet["height"] / height
        assert box["x"] - sheet["x"] == pytest.approx(X0 * scale_x, abs=1.5)
        assert box["y"] - sheet["y"] == pytest.approx(TOP * scale_y, abs=1.5)
        assert box["width"] == pytest.approx((X1 - X0) * scale_x, abs=1.5)
        assert box["height"] == pytest.approx((BOTTOM - TOP) * scale_y, abs=1.5)
        # The image fills the sheet the boxes are placed on.
        shown = image.bounding_box()
        assert shown is not None
        assert shown["height"] == pytest.approx(sheet["height"], abs=1)
        # The box covers dark (text) pixels of the rendered page: the chunk's line is under it.
        inked = page.evaluate(
            """([img, box]) => {
                const canvas = document.createElement('canvas');
                canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
                const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
                const r = img.getBoundingClientRect(), b = box.getBoundingClientRect();
                const k = img.naturalWidth / r.width;
                const data = ctx.getImageData((b.left - r.left) * k, (b.top - r.top) * k,
                                              b.width * k, b.height * k).data;
                let dark = 0;
                for (let i = 0; i < data.length; i += 4) if (data[i] < 100) dark++;
                return dark;
            }""",
            [image.element_handle(), page.locator(".preview__box").element_handle()],
        )
        assert inked > 200, inked
        expect(page.locator(".preview__chunk")).to_contain_text("4312 animals")
        snapshot(page, "preview-chunk")

        page.get_by_role("link", name="Previous page").click()
        expect(page.locator(".preview__count")).to_have_text("Page 1 of 2")
        expect(page.locator(".preview__box")).to_have_count(0)
        page.wait_for_function(
            "() => document.querySelector('img.preview__image').naturalWidth > 0"
        )

        # At phone width the page still fits and the box still lines up.
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("link", name="Next page").click()
        expect(page.locator(".preview__count")).to_have_text("Page 2 of 2")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the window"
        sheet = page.locator(".preview__sheet").bounding_box()
        box = page.locator(".preview__box").bounding_box()
        assert sheet is not None and box is not None
        assert box["x"] - sheet["x"] == pytest.approx(X0 * sheet["width"] / width, abs=1.5)


def test_a_chat_citation_opens_the_cited_chunk_in_the_preview(
    transactional_db: None,
    live_server_url: str,
    live_workdir: Path,
    bob: User,
    tmp_path: Path,
    settings: Any,
) -> None:
    from playwright.sync_api import expect

    from chat.services.assistants import ChatChanges, chat_create

    use_live_media(settings, live_workdir)
    data = builders.text_pdf_bytes(PAGES)
    dataset = dataset_create(tenant=bob, name="Walrus notes")
    (document,) = document_upload(
        tenant=bob,
        dataset=dataset,
        uploads=[Upload(name="walrus.pdf", file=ContentFile(data), size=len(data))],
    )
    chunk_add(document=document, content=PAGES[0])
    # No positions: the preview finds the chunk by its text on page 2.
    cited = chunk_add(document=document, content=PAGES[1])
    chat = chat_create(tenant=bob, changes=ChatChanges(name="Walrus bot", dataset_ids=[dataset.pk]))
    with browser_page(tmp_path) as page:
        log_in(page, live_server_url)
        page.goto(f"{live_server_url}/chats/{chat.pk}/")
        page.get_by_role("button", name="Start a session").click()
        page.wait_for_url(f"{live_server_url}/chats/{chat.pk}/sessions/*/")
        question = page.get_by_label("Your question")
        expect(question).to_be_enabled()
        question.fill("How many walruses were counted on Kolguev island?")
        question.press("Enter")
        answer = page.locator("#messages > .message").nth(2)
        cite = answer.locator(".message__text .cite__button").first
        expect(cite).to_be_visible(timeout=60_000)
        cite.click()
        passage = answer.locator(".citation").first
        expect(passage).to_contain_text("4312")

        passage.get_by_role("link", name="Show in document").click()
        page.wait_for_url(re.compile(rf"/documents/{document.pk}/preview/\?chunk={cited.pk}$"))
        expect(page.locator(".preview__count")).to_have_text("Page 2 of 2")
        expect(page.locator(".preview__note")).to_contain_text("outlined where its text was found")
        page.wait_for_function(
            "() => document.querySelector('img.preview__image').naturalWidth > 0"
        )
        x0, x1, top, bottom = text_box(data, 2)
        width, height = pdfium.PdfDocument(data)[1].get_size()
        sheet = page.locator(".preview__sheet").bounding_box()
        box = page.locator(".preview__box").bounding_box()
        assert sheet is not None and box is not None
        scale = sheet["width"] / width
        # Found boxes hug the glyphs, so they sit within a point or two of the text's extent.
        assert box["x"] - sheet["x"] == pytest.approx(x0 * scale, abs=3)
        assert box["y"] - sheet["y"] == pytest.approx(top * sheet["height"] / height, abs=3)
        assert box["width"] == pytest.approx((x1 - x0) * scale, abs=4)
        snapshot(page, "preview-citation")
