"""The evaluation page: owners keep questions, anyone who may search runs the scores."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from knowledge.models import Document, EvaluationQuestion
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create

HX = {"HX-Request": "true"}


@pytest.fixture
def shelf(tenant):
    dataset = dataset_create(tenant=tenant, name="shelf")
    documents = {}
    for name, text in {
        "walrus.txt": "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
        "tax.txt": "Tax forms for the fiscal year are due at the end of April.",
    }.items():
        document = Document.objects.create(
            dataset=dataset, tenant=tenant, name=name, type="doc", suffix="txt"
        )
        chunk_add(document=document, content=text)
        documents[name] = document
    dataset.refresh_from_db()
    return dataset, documents


def test_owner_adds_a_question_runs_and_sees_every_table(client: Client, tenant, shelf) -> None:
    dataset, documents = shelf
    client.force_login(tenant)
    page = client.get(reverse("knowledge:evaluation", args=[dataset.pk]))
    assert page.status_code == 200
    assert 'aria-current="page"' in page.content.decode() and "No questions yet." in page.text

    added = client.post(
        reverse("knowledge:add_evaluation_question", args=[dataset.pk]),
        {"question": "When are tax forms due?", "document_ids": [documents["tax.txt"].pk]},
        headers=HX,
    )
    assert added.status_code == 200
    assert "When are tax forms due?" in added.text and "tax.txt" in added.text

    report = client.post(reverse("knowledge:run_evaluation", args=[dataset.pk]), headers=HX)
    html = report.text
    assert report.status_code == 200
    for table in ("evaluation-legs", "evaluation-weights", "evaluation-thresholds"):
        assert table in html
    assert 'data-leg="hybrid"' in html and "Best on these questions" in html


def test_invalid_questions_show_a_message_and_store_nothing(client: Client, tenant, shelf) -> None:
    dataset, documents = shelf
    client.force_login(tenant)
    url = reverse("knowledge:add_evaluation_question", args=[dataset.pk])
    no_document = client.post(url, {"question": "Which?"}, headers=HX)
    assert no_document.status_code == 200 and "This field is required" in no_document.text
    foreign = client.post(url, {"question": "Which?", "document_ids": ["0" * 32]}, headers=HX)
    assert "is not one of the available choices" in foreign.text
    assert EvaluationQuestion.objects.count() == 0


def test_running_without_questions_says_to_add_some(client: Client, tenant, shelf) -> None:
    dataset, _ = shelf
    client.force_login(tenant)
    report = client.post(reverse("knowledge:run_evaluation", args=[dataset.pk]), headers=HX)
    assert "Add questions first." in report.text


def test_another_user_gets_404_everywhere(client: Client, other_tenant, shelf) -> None:
    dataset, documents = shelf
    question = EvaluationQuestion.objects.create(
        dataset=dataset, question="q", document_ids=[documents["tax.txt"].pk]
    )
    client.force_login(other_tenant)
    assert client.get(reverse("knowledge:evaluation", args=[dataset.pk])).status_code == 404
    add = reverse("knowledge:add_evaluation_question", args=[dataset.pk])
    assert (
        client.post(add, {"question": "x", "document_ids": [documents["tax.txt"].pk]}).status_code
        == 404
    )
    delete = reverse("knowledge:delete_evaluation_question", args=[dataset.pk, question.pk])
    assert client.post(delete).status_code == 404
    assert client.post(reverse("knowledge:run_evaluation", args=[dataset.pk])).status_code == 404
    assert EvaluationQuestion.objects.filter(pk=question.pk).exists()


def test_owner_deletes_a_question(client: Client, tenant, shelf) -> None:
    dataset, documents = shelf
    question = EvaluationQuestion.objects.create(
        dataset=dataset, question="q", document_ids=[documents["tax.txt"].pk]
    )
    client.force_login(tenant)
    url = reverse("knowledge:delete_evaluation_question", args=[dataset.pk, question.pk])
    response = client.post(url, headers=HX)
    assert response.status_code == 200 and "No questions yet." in response.text
    assert not EvaluationQuestion.objects.exists()
