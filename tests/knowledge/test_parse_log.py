"""The parse log on the knowledge base page in the reader's language: the worker writes it in
English (the API hands it out as RAGFlow does), the page translates the lines it knows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from knowledge.models import Dataset, Document
from knowledge.views.parse_log import translate_line, translate_log
from tests.knowledge.parsing import builders
from tests.knowledge.test_document_views import add_documents, set_state, upload, url

pytestmark = pytest.mark.django_db
HAN = re.compile(r"[\u4e00-\u9fff]")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def alice(client: Client, tenant: Any) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def dataset(tenant: Any) -> Dataset:
    from knowledge.services.datasets import dataset_create

    return dataset_create(tenant=tenant, name="papers")


def _parse_uploaded(
    alice: Client, dataset: Dataset, name: str, data: bytes, capture: Any
) -> Document:
    with capture(execute=False) as queued:
        upload(alice, dataset, (name, data), parse=True, headers=HTMX)
    for callback in queued:  # what the worker would do
        callback()
    return Document.objects.get(name=name)


def test_every_line_of_a_real_pdf_parse_log_reads_in_chinese(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    document = _parse_uploaded(
        alice,
        dataset,
        "paper.pdf",
        builders.two_column_pdf_bytes(),
        django_capture_on_commit_callbacks,
    )
    assert document.run == Document.Run.DONE, document.progress_msg
    english = document.progress_msg
    assert "Found 1 table(s)." in english and "running header" in english
    with translation.override("zh-hans"):
        chinese = translate_log(english)
    lines = chinese.splitlines()
    assert len(lines) == len(english.splitlines())
    untranslated = [line for line in lines if not HAN.search(line)]
    assert untranslated == [], "\n".join(untranslated)
    assert "找到 1 个表格。" in chinese and "行页眉、页脚和页码" in chinese
    # The time stamps stay, and the numbers the worker wrote come through.
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in lines)
    tokens = re.search(r"Task done \([\d.]+s\): (\d+) chunks, (\d+) tokens", english)
    assert tokens and f"{tokens[1]} 个文本块，{tokens[2]} 个 token" in chinese
    # In English the log is shown as the worker wrote it.
    with translation.override("en"):
        assert translate_log(english) == english


def test_a_damaged_pdf_fails_with_its_reason_and_log_in_chinese(
    alice: Client, dataset: Dataset, django_capture_on_commit_callbacks: Any
) -> None:
    damaged = builders.two_column_pdf_bytes()[:2000]
    document = _parse_uploaded(
        alice, dataset, "broken.pdf", damaged, django_capture_on_commit_callbacks
    )
    assert document.run == Document.Run.FAIL
    assert "The PDF file is damaged and could not be read" in document.progress_msg

    html = alice.get(url("dataset_detail", dataset.pk), HTTP_ACCEPT_LANGUAGE="zh-hans")
    row = re.search(rf'<tr id="document-{document.pk}".*?</tr>', html.content.decode(), re.S)
    assert row
    error = re.search(r'<p class="parse-state__error">(.*?)</p>', row[0], re.S)
    assert error and error[1].startswith("该 PDF 文件已损坏，无法读取："), error
    log = re.search(r"<pre>(.*?)</pre>", row[0], re.S)
    assert log and "已接收任务。" in log[1] and "[ERROR] 该 PDF 文件已损坏" in log[1]
    assert "Task has been received." not in log[1]

    english = alice.get(url("dataset_detail", dataset.pk)).content.decode()
    assert "The PDF file is damaged and could not be read: " in english


def test_a_running_parse_shows_its_step_in_chinese_and_unknown_lines_as_written(
    alice: Client, dataset: Dataset
) -> None:
    [running, failed] = add_documents(dataset, ("a.txt", b"Walrus."), ("b.txt", b"Seal."))
    set_state(
        running,
        run=Document.Run.RUNNING,
        progress=0.2,
        progress_msg="10:00:00 Task has been received.\n10:00:01 Reading page 3/12.",
    )
    set_state(
        failed,
        run=Document.Run.FAIL,
        progress=-1,
        progress_msg="10:00:00 [ERROR] Something nobody translated.",
    )
    html = alice.get(url("dataset_detail", dataset.pk), HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = html.content.decode()
    assert "正在读取第 3/12 页。" in page and "Reading page 3/12." not in page
    assert "Something nobody translated." in page
    with translation.override("zh-hans"):
        assert translate_line("Pages 2-4, 7 have no text layer; read with OCR.") == (
            "第 2-4, 7 页没有文本层，已用 OCR 识别。"
        )
        assert translate_line("10:00:00 No text was found on page 5.") == (
            "10:00:00 第 5 页上没有找到文字。"
        )
