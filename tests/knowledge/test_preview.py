"""The document preview: page images (rendered once, cached, tenant-scoped), a chunk's boxes over
them, links from chunk cards, retrieval hits and citations, and v0.27's raw preview route."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from agents.views import reply_item_html
from chat.views import answer_item_html
from knowledge.models import Chunk, Dataset, Document
from knowledge.pagerender import PAGE_WIDTH_PX, PageSize, boxes_on_page, first_page
from knowledge.services.chunks import ChunkChanges, chunk_add, chunk_update
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_delete, document_upload
from ragsite.accounts.models import User
from ragsite.api.codes import RetCode
from tests.helpers import assert_error
from tests.knowledge.parsing import builders
from tests.knowledge.parsing.conftest import cjk_font_available

__all__ = ["cjk_font_available"]  # the fixture, from the parsing tests

PAGES = ["Walrus counts on Kolguev island.", "Seals haul out on the northern spit at low tide."]
# Where the chunk is: page 2, x 72-300 pt, 100-140 pt from the top.
POSITIONS = [[2, 72, 300, 100, 140]]


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def mallory(other_tenant: User) -> Client:
    other = Client()
    other.force_login(other_tenant)
    return other


@pytest.fixture
def dataset(tenant: User) -> Dataset:
    return dataset_create(tenant=tenant, name="survey")


def upload(dataset: Dataset, name: str, data: bytes) -> Document:
    (document,) = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=name, file=ContentFile(data), size=len(data))],
    )
    return document


@pytest.fixture
def pdf(dataset: Dataset) -> Document:
    return upload(dataset, "survey.pdf", builders.text_pdf_bytes(PAGES))


def chunk_with_positions(document: Document, content: str, positions: list) -> Chunk:
    chunk = chunk_add(document=document, content=content)
    return chunk_update(
        document=document, chunk_id=chunk.pk, changes=ChunkChanges(positions=positions)
    )


def preview(document: Document, **query: object) -> str:
    url = reverse("knowledge:document_preview", args=[document.dataset_id, document.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page_image(document: Document, number: int) -> str:
    return reverse(
        "knowledge:document_preview_page", args=[document.dataset_id, document.pk, number]
    )


def real_page_size(data: bytes, number: int) -> tuple[float, float]:
    document = pdfium.PdfDocument(data)
    width, height = document[number - 1].get_size()
    return width, height


def test_a_chunk_opens_at_its_page_with_its_boxes_where_the_positions_say(
    alice: Client, pdf: Document
) -> None:
    chunk = chunk_with_positions(pdf, PAGES[1], POSITIONS)
    html = alice.get(preview(pdf, chunk=chunk.pk)).content.decode()
    assert "Page 2 of 2" in html
    assert f'src="{page_image(pdf, 2)}"' in html
    width, height = real_page_size(builders.text_pdf_bytes(PAGES), 2)
    (box,) = re.findall(r'class="preview__box" style="([^"]+)"', html)
    expected = {
        "left": 100 * 72 / width,
        "top": 100 * 100 / height,
        "width": 100 * (300 - 72) / width,
        "height": 100 * 40 / height,
    }
    found = {k: float(v) for k, v in re.findall(r"(left|top|width|height): ([\d.]+)%", box)}
    assert found == pytest.approx(expected, abs=0.001)
    assert PAGES[1] in html  # the chunk's text beside the page
    assert 'rel="prev"' in html and 'rel="next"' not in html


def test_another_page_keeps_the_chunk_but_has_no_boxes(alice: Client, pdf: Document) -> None:
    chunk = chunk_with_positions(pdf, PAGES[1], POSITIONS)
    html = alice.get(preview(pdf, chunk=chunk.pk, page=1)).content.decode()
    assert "Page 1 of 2" in html and "preview__box" not in html
    assert "This chunk is not on this page" in html
    assert f"?chunk={chunk.pk}&amp;page=2" in html  # next keeps the chunk
    # Out-of-range and nonsense page numbers land on a real page.
    assert "Page 2 of 2" in alice.get(preview(pdf, page=99)).content.decode()
    assert "Page 1 of 2" in alice.get(preview(pdf, page="x")).content.decode()


def test_a_page_image_is_rendered_once_at_a_bounded_size_and_cached(
    alice: Client, pdf: Document
) -> None:
    response = alice.get(page_image(pdf, 1))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    width, height = real_page_size(builders.text_pdf_bytes(PAGES), 1)
    assert image.width == PAGE_WIDTH_PX
    assert image.height == pytest.approx(PAGE_WIDTH_PX * height / width, abs=1)
    assert image.convert("L").getextrema()[0] < 100  # the text is drawn, the page is not blank
    cached = Path(settings.MEDIA_ROOT) / "previews" / pdf.dataset_id / pdf.pk / "page-1.png"
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    assert alice.get(page_image(pdf, 1)).status_code == 200
    assert cached.stat().st_mtime_ns == stamp
    assert alice.get(page_image(pdf, 3)).status_code == 404


def test_deleting_the_document_removes_its_cached_pages(
    alice: Client, pdf: Document, django_capture_on_commit_callbacks
) -> None:
    assert alice.get(page_image(pdf, 1)).status_code == 200
    folder = Path(settings.MEDIA_ROOT) / "previews" / pdf.dataset_id / pdf.pk
    assert folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(dataset=pdf.dataset, ids=[pdf.pk])
    assert not folder.exists()


def test_another_tenant_gets_neither_the_preview_nor_the_page_images(
    mallory: Client, pdf: Document
) -> None:
    chunk = chunk_with_positions(pdf, PAGES[1], POSITIONS)
    assert mallory.get(preview(pdf, chunk=chunk.pk)).status_code == 404
    assert mallory.get(page_image(pdf, 1)).status_code == 404
    cached = Path(settings.MEDIA_ROOT) / "previews" / pdf.dataset_id
    assert not cached.exists()  # refused before anything was rendered


def test_a_chunk_of_another_document_is_refused(
    alice: Client, dataset: Dataset, pdf: Document
) -> None:
    other = upload(dataset, "notes.txt", b"Some notes.\n")
    chunk = chunk_add(document=other, content="Some notes.")
    assert alice.get(preview(pdf, chunk=chunk.pk)).status_code == 404


def test_text_documents_show_the_chunk_text_and_say_there_is_no_page_view(
    alice: Client, dataset: Dataset
) -> None:
    document = upload(dataset, "notes.txt", b"Seals haul out at low tide.\n")
    chunk = chunk_add(document=document, content="Seals haul out at low tide.")
    html = alice.get(preview(document, chunk=chunk.pk)).content.decode()
    assert "Spreadsheets and text files have no page view; the chunk's text is shown" in html
    assert "Seals haul out at low tide." in html and "<img" not in html
    assert alice.get(page_image(document, 1)).status_code == 404


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_office_documents_are_shown_from_a_pdf_libreoffice_makes(
    alice: Client, dataset: Dataset
) -> None:
    document = upload(dataset, "review.pptx", builders.pptx_bytes())
    chunk = chunk_add(document=document, content="Regions North 40")
    Chunk.objects.filter(pk=chunk.pk).update(page_numbers=[2])
    html = alice.get(preview(document, chunk=chunk.pk)).content.decode()
    assert "Page 2 of 3" in html  # one page per slide, opened at the chunk's slide
    assert "the chunk&#x27;s text was not found on it" in html or (
        "the chunk's text was not found on it" in html
    )
    assert "preview__box" not in html
    response = alice.get(page_image(document, 2))
    assert response.status_code == 200
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).width == PAGE_WIDTH_PX


def test_a_chunk_without_positions_is_outlined_where_its_text_is(
    alice: Client, pdf: Document
) -> None:
    chunk = chunk_add(document=pdf, content=PAGES[1])
    assert chunk.positions == [] and chunk.page_numbers == []
    html = alice.get(preview(pdf, chunk=chunk.pk)).content.decode()
    assert "Page 2 of 2" in html
    assert "The chunk has no recorded position; it is outlined where its text was found." in html
    (box,) = re.findall(r'class="preview__box" style="([^"]+)"', html)
    found = {k: float(v) for k, v in re.findall(r"(left|top|width|height): ([\d.]+)%", box)}
    # fpdf2 writes the line at the top-left margin (10 mm) of an A4 page.
    assert 3 < found["left"] < 8 and 2 < found["top"] < 6 and found["width"] > 40
    # Text that is nowhere in the PDF: no box, and it says so.
    missing = chunk_add(document=pdf, content="Polar bears were not seen on this trip at all.")
    html = alice.get(preview(pdf, chunk=missing.pk)).content.decode()
    assert "preview__box" not in html and "its text was not found in the PDF" in html


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_a_word_chunk_is_outlined_on_libreoffices_pdf(alice: Client, dataset: Dataset) -> None:
    document = upload(dataset, "handbook.docx", builders.docx_bytes())
    chunk = chunk_add(
        document=document, content="Sick leave needs a note from a doctor after three days."
    )
    html = alice.get(preview(document, chunk=chunk.pk)).content.decode()
    assert "Page 1 of 1" in html
    assert "the chunk is outlined where its text was found" in html
    assert html.count('class="preview__box"') == 1


def test_a_damaged_office_file_says_why_it_has_no_page_view(
    alice: Client, dataset: Dataset, settings
) -> None:
    settings.RAGSITE_SOFFICE = "/nonexistent/soffice"
    document = upload(dataset, "minutes.docx", builders.docx_bytes())
    html = alice.get(preview(document)).content.decode()
    assert "No page view for this document: minutes.docx needs LibreOffice" in html


def test_chunk_cards_retrieval_hits_and_citations_link_to_the_preview(
    alice: Client, pdf: Document
) -> None:
    chunk = chunk_with_positions(pdf, PAGES[1], POSITIONS)
    link = preview(pdf, chunk=chunk.pk)
    listing = alice.get(reverse("knowledge:dataset_detail", args=[pdf.dataset_id]))
    assert f'href="{preview(pdf)}"' in listing.content.decode()  # the document row
    cards = alice.get(reverse("knowledge:document_chunks", args=[pdf.dataset_id, pdf.pk]))
    assert f'href="{link}"' in cards.content.decode()
    hits = alice.get(
        reverse("knowledge:retrieval_test", args=[pdf.dataset_id]),
        {"question": "Where do seals haul out?", "similarity_threshold": "0"},
    )
    assert f'href="{link}"' in hits.content.decode()
    reference = {
        "chunks": [
            {"id": chunk.pk, "document_id": pdf.pk, "dataset_id": pdf.dataset_id,
             "document_name": pdf.name, "content": chunk.content},
        ]
    }  # fmt: skip
    html = answer_item_html("Seals haul out at low tide [ID:0].", reference, "2")
    assert html.count(f'href="{link}"') == 2  # in the quote and in the sources list
    agent_html = reply_item_html("Seals [ID:0].", {"0": reference["chunks"][0]}, "", "2")
    assert agent_html.count(f'href="{link}"') == 2  # an agent's citations too


# --- GET /api/v1/documents/{doc_id}/preview (v0.27) -------------------------------------------


def test_the_api_preview_returns_the_bytes_inline(api, pdf: Document) -> None:
    for path in [f"/api/v1/documents/{pdf.pk}/preview", f"/api/v1/document/get/{pdf.pk}"]:
        response = api.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'inline; filename="survey.pdf"'
        with default_storage.open(pdf.location, "rb") as stored:
            assert b"".join(response.streaming_content) == stored.read()


def test_the_api_preview_forces_html_to_download_and_refuses_other_tenants(
    api, other_api, dataset: Dataset, pdf: Document
) -> None:
    page = upload(dataset, "page.html", b"<p>hello</p>")
    response = api.get(f"/api/v1/documents/{page.pk}/preview")
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert_error(
        other_api.get(f"/api/v1/documents/{pdf.pk}/preview"),
        RetCode.DATA_ERROR,
        "document not found",
    )
    assert_error(
        api.get("/api/v1/documents/nope/preview"), RetCode.DATA_ERROR, "document not found"
    )


# --- boxes (pure) ------------------------------------------------------------------------------


def test_boxes_skip_malformed_positions_and_clip_to_the_page() -> None:
    size = PageSize(200.0, 100.0)
    positions = [
        [1, 20, 60, 10, 30],
        [1, -10, 400, 90, 120],  # clipped to the page
        [2, 0, 10, 0, 10],  # another page
        [1, "a", 2, 3, 4],
        [1, 2, 3],
        "junk",
    ]
    boxes = boxes_on_page(positions, 1, size)
    assert [(b.left, b.top, b.width, b.height) for b in boxes] == [
        (10.0, 10.0, 20.0, 20.0),
        (0.0, 90.0, 100.0, 10.0),
    ]
    assert boxes_on_page("junk", 1, size) == []
    assert first_page(positions[2:]) == 2 and first_page([]) is None


def test_the_preview_speaks_chinese(alice: Client, pdf: Document) -> None:
    chunk = chunk_with_positions(pdf, PAGES[1], POSITIONS)
    html = alice.get(preview(pdf, chunk=chunk.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "第 2 页，共 2 页" in html and "上一页" in html


def test_locating_text_follows_wrapped_lines_cjk_and_a_chunk_running_onto_the_next_page(
    tmp_path: Path, cjk_font_available: None
) -> None:
    from knowledge.pagerender import locate_text

    long_text = " ".join(f"item{n}" for n in range(1200))  # fpdf2 breaks it over pages
    path = tmp_path / "a.pdf"
    path.write_bytes(builders.text_pdf_bytes([long_text, "员工每年享有二十天带薪年假。"], cjk=True))
    positions = locate_text(path, long_text)
    pages = sorted({int(p[0]) for p in positions})
    assert pages == [1, 2], pages
    assert len([p for p in positions if p[0] == 1]) > 30  # one box per wrapped line
    tops = [p[3] for p in positions if p[0] == 1]
    assert tops == sorted(tops)
    (cjk,) = locate_text(path, "员工每年享有 二十天带薪年假。")  # spaces do not matter
    assert cjk[0] == len(pdfium.PdfDocument(str(path)))  # the last page
    assert locate_text(path, "item 7") == []  # too short to tell where it is


def test_the_same_text_on_two_pages_is_found_on_the_chunks_own_page(tmp_path: Path) -> None:
    from knowledge.pagerender import locate_text

    path = tmp_path / "twice.pdf"
    path.write_bytes(builders.text_pdf_bytes([PAGES[1], "Nothing to see.", PAGES[1]]))
    assert {p[0] for p in locate_text(path, PAGES[1], hint=3)} == {3.0}
    assert {p[0] for p in locate_text(path, PAGES[1])} == {1.0}


def test_images_are_shown_as_they_are_scaled_to_the_page_width(
    alice: Client, dataset: Dataset
) -> None:
    small = upload(dataset, "sign.png", builders.text_png_bytes(["Kolguev"]))
    wide = upload(dataset, "wide.png", builders.text_png_bytes(["Kolguev"], size=(3000, 1000)))
    chunk = chunk_add(document=small, content="Kolguev")
    html = alice.get(preview(small, chunk=chunk.pk)).content.decode()
    assert "Page 1 of 1" in html and "read from this image" in html
    for document, width in [(small, 1200), (wide, PAGE_WIDTH_PX)]:
        response = alice.get(page_image(document, 1))
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert image.size == (width, width // 3)
    broken = upload(dataset, "broken.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
    html = alice.get(preview(broken)).content.decode()
    assert "No page view for this document: The image could not be opened" in html
    assert alice.get(page_image(broken, 1)).status_code == 404
