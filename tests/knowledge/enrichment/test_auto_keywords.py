"""Auto keywords and questions while parsing, against the local test chat model."""

from __future__ import annotations

import pytest

from knowledge.models import Chunk, Document
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from tests.knowledge.enrichment.helpers import TOPICS, parsed_dataset
from tests.llm_server import (
    answer_keywords,
    answer_questions,
    is_keyword_prompt,
    passage_of,
)

pytestmark = pytest.mark.django_db


def test_keywords_and_questions_come_from_the_model_for_every_chunk(
    tenant, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(
        tenant, django_capture_on_commit_callbacks, auto_keywords=3, auto_questions=2
    )
    chunks = list(Chunk.objects.filter(dataset=dataset))
    assert len(chunks) == 12
    for chunk in chunks:
        keyword_prompt = f"top 3 keywords\n## Text Content\n{chunk.content}"
        question_prompt = f"Propose 2 questions\n## Text Content\n{chunk.content}"
        assert chunk.important_keywords == answer_keywords(keyword_prompt, []).split(", ")
        assert chunk.questions == answer_questions(question_prompt, []).splitlines()
        assert len(chunk.important_keywords) == 3 and chunk.questions
    assert len(llm_server.requests) == 24  # one keyword and one question prompt per chunk
    document = Document.objects.get(dataset=dataset)
    assert "Keywords and questions 12/12 chunks." in document.progress_msg
    assert "Keywords and questions done: 24 chat-model calls" in document.progress_msg


def test_generated_keywords_are_searched(
    tenant, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    """A keyword the model adds that the text does not contain still finds the chunk."""
    french = {"walrus": "morse", "lighthouse": "phare", "sourdough": "levain"}

    def translated(prompt, messages):
        # The translation first: the parse keeps only as many keywords as it asked for.
        words = answer_keywords(prompt, messages).split(", ")
        return ", ".join([french[w] for w in words if w in french] + words)

    llm_server.register(is_keyword_prompt, translated)
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks, auto_keywords=2)
    hits = retrieval_run(
        user=tenant,
        request=RetrievalRequest(
            question="phare",
            dataset_ids=[dataset.pk],
            vector_similarity_weight=0,
            similarity_threshold=0,
        ),
    ).hits
    found = [h for h in hits if h.term_similarity > 0]
    assert len(found) == 4, [(h.content, h.term_similarity) for h in hits]
    assert all("phare" in h.important_keywords for h in found)
    assert all("lighthouse" in h.content.lower() and "phare" not in h.content for h in found)
    assert hits[:4] == found


def test_without_a_chat_model_the_log_says_what_to_configure(
    tenant, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(
        tenant, django_capture_on_commit_callbacks, auto_keywords=3, auto_questions=1
    )
    log = Document.objects.get(dataset=dataset).progress_msg
    assert "auto_keywords (3) needs a chat model; no keywords were generated." in log
    assert "auto_questions (1) needs a chat model; no questions were generated." in log
    assert "Admin → Model providers" in log
    assert not Chunk.objects.filter(dataset=dataset).exclude(important_keywords=[]).exists()


def test_a_provider_error_fails_the_document_naming_the_chunk(
    tenant, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    llm_server.fail_with(
        429, "quota exhausted", when=lambda prompt, m: "Laptev" in passage_of(prompt)
    )
    dataset = parsed_dataset(
        tenant, django_capture_on_commit_callbacks, expect_done=False, auto_keywords=3
    )
    document = Document.objects.get(dataset=dataset)
    assert document.run == Document.Run.FAIL
    line = document.progress_msg.splitlines()[-1]
    from knowledge.services.ingest import chunk_id

    failing = chunk_id(TOPICS["walrus"][0], document.pk)
    assert f"[ERROR] Keywords for chunk {failing}: " in line
    assert "HTTP 429 (rate limited; try again later): quota exhausted" in line
    assert document.chunk_count == 0


def test_the_cost_limit_fails_the_parse_with_a_clear_message(
    tenant, llm_provider, llm_server, settings, django_capture_on_commit_callbacks
) -> None:
    settings.RAGSITE_ENRICHMENT_MAX_CALLS = 5
    dataset = parsed_dataset(
        tenant, django_capture_on_commit_callbacks, expect_done=False, auto_questions=1
    )
    document = Document.objects.get(dataset=dataset)
    assert document.run == Document.Run.FAIL
    assert "limit of 5 chat-model calls (RAGSITE_ENRICHMENT_MAX_CALLS)" in document.progress_msg
    assert len(llm_server.requests) == 5


@pytest.mark.django_db(transaction=True)
def test_stopping_the_parse_during_the_keyword_step_keeps_nothing(
    tenant, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    from django.db import connection

    from knowledge.services.ingest import parse_stop

    def stop_then_answer(prompt, messages):
        try:
            document = Document.objects.get(name="notes0.txt")
            if document.run == Document.Run.RUNNING:
                parse_stop(dataset=document.dataset, document_ids=[document.pk])
        finally:
            connection.close()
        return answer_keywords(prompt, messages)

    llm_server.register(is_keyword_prompt, stop_then_answer)
    dataset = parsed_dataset(
        tenant, django_capture_on_commit_callbacks, expect_done=False, auto_keywords=2
    )
    document = Document.objects.get(dataset=dataset)
    assert document.run == Document.Run.CANCEL
    assert document.chunk_count == 0 and not Chunk.objects.filter(dataset=dataset).exists()
    assert len(llm_server.requests) <= 8  # the first batch only
