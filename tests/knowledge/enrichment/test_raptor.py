"""RAPTOR through both API generations against the local test chat model (tests/llm_server.py)."""

from __future__ import annotations

import pytest

from knowledge.models import Chunk, EnrichmentJob
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.api.codes import RetCode
from tests.helpers import assert_error, assert_ok
from tests.knowledge.enrichment.helpers import TOPICS, parsed_dataset
from tests.llm_server import answer_summary, is_summary_prompt

pytestmark = pytest.mark.django_db


def summaries(dataset):
    return list(Chunk.objects.filter(dataset=dataset, raptor_level__gt=0).order_by("raptor_level"))


def test_run_raptor_builds_a_tree_of_summaries_that_retrieval_finds(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    leaves = Chunk.objects.filter(dataset=dataset, raptor_level=0).count()
    assert leaves == 12
    with django_capture_on_commit_callbacks(execute=True):
        data = assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    assert data["raptor_task_id"] == data["task_id"]

    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor"))
    assert trace["id"] == data["task_id"] and trace["task_type"] == "raptor"
    assert trace["progress"] == 1.0, trace["progress_msg"]
    assert "Task done" in trace["progress_msg"]

    built = summaries(dataset)
    assert built, trace["progress_msg"]
    # Every summary is the test model's answer to a prompt holding the clustered texts.
    prompts = [p for p in llm_server.prompts() if is_summary_prompt(p, [])]
    assert len(prompts) >= len(built)
    answers = {answer_summary(p, []) for p in prompts}
    assert {c.content for c in built} <= answers
    # The top layer is a single root; there are summaries of summaries when there are layers.
    top = max(c.raptor_level for c in built)
    assert sum(1 for c in built if c.raptor_level == top) == 1
    dataset.refresh_from_db()
    assert dataset.chunk_count == leaves + len(built)
    assert trace["llm_calls"] == len(prompts)

    # A summary is an ordinary chunk for retrieval: its words find it.
    root = next(c for c in built if c.raptor_level == top)
    result = retrieval_run(
        user=tenant,
        request=RetrievalRequest(
            question=root.content, dataset_ids=[dataset.pk], similarity_threshold=0
        ),
    )
    assert result.hits[0].id == root.pk
    listed = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}"))
    assert listed["raptor_task_id"] == data["task_id"] and listed["raptor_task_finish_at"]


def test_a_second_run_replaces_the_summaries_and_reuses_kept_answers(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    first = {c.pk for c in summaries(dataset)}
    asked = len(llm_server.requests)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    assert {c.pk for c in summaries(dataset)} == first
    assert len(llm_server.requests) == asked  # every prompt answered from the kept answers
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor"))
    assert trace["progress"] == 1.0 and "answers reused" in trace["progress_msg"]


def test_v027_index_routes_start_trace_and_wipe(
    tenant, api, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    path = f"/api/v1/datasets/{dataset.pk}/index"
    assert assert_ok(api.get(path + "?type=raptor")) == {}
    with django_capture_on_commit_callbacks(execute=True):
        started = assert_ok(api.post(path + "?type=RAPTOR"))
    assert set(started) == {"task_id"}
    trace = assert_ok(api.get(path + "?type=raptor"))
    assert trace["id"] == started["task_id"] and trace["progress"] == 1.0
    assert summaries(dataset)
    assert assert_ok(api.delete(path + "?type=raptor")) == {}
    assert summaries(dataset) == []
    assert assert_ok(api.get(path + "?type=raptor")) == {}
    dataset.refresh_from_db()
    assert dataset.chunk_count == 12


def test_keep_summaries_with_wipe_false(
    tenant, api, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/index?type=raptor"))
    assert_ok(api.delete(f"/api/v1/datasets/{dataset.pk}/raptor?wipe=false"))
    assert summaries(dataset)


@pytest.mark.parametrize("kind", ["mindmap", "", "wiki"])
def test_unknown_index_types_are_refused(tenant, api, kind) -> None:
    from knowledge.services.datasets import dataset_create

    dataset = dataset_create(tenant=tenant, name="x")
    message = assert_error(
        api.post(f"/api/v1/datasets/{dataset.pk}/index?type={kind}"), RetCode.DATA_ERROR
    )
    assert message.startswith(f"Invalid index type '{kind}'. Must be one of [")
    assert_error(
        api.delete(f"/api/v1/datasets/{dataset.pk}/index?type={kind}"), RetCode.ARGUMENT_ERROR
    )


def test_without_a_chat_model_the_answer_says_what_to_configure(
    tenant, api, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    for path in ("run_raptor", "index?type=raptor"):
        message = assert_error(
            api.post(f"/api/v1/datasets/{dataset.pk}/{path}"), RetCode.DATA_ERROR
        )
        assert "Admin → Model providers" in message and "chat model" in message
    assert EnrichmentJob.objects.count() == 0


def test_an_empty_dataset_and_a_running_job_are_refused(
    tenant, api, llm_provider, django_capture_on_commit_callbacks
) -> None:
    from knowledge.services.datasets import dataset_create

    empty = dataset_create(tenant=tenant, name="empty")
    assert_error(
        api.post(f"/api/v1/datasets/{empty.pk}/run_raptor"),
        RetCode.DATA_ERROR,
        f"No documents in Dataset {empty.pk}",
    )
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    first = assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))  # not dispatched
    message = assert_error(
        api.post(f"/api/v1/datasets/{dataset.pk}/index?type=raptor"), RetCode.DATA_ERROR
    )
    assert message == (
        f"Task {first['task_id']} in progress with status 0.0. A RAPTOR Task is already running."
    )


def test_another_tenants_dataset_is_refused_on_both_generations(
    tenant, api, other_api, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    ds = f"/api/v1/datasets/{dataset.pk}"
    assert_error(
        other_api.post(ds + "/run_raptor"), RetCode.AUTHENTICATION_ERROR, "No authorization."
    )
    assert_error(
        other_api.get(ds + "/trace_raptor"), RetCode.AUTHENTICATION_ERROR, "No authorization."
    )
    for method in ("post", "get", "delete"):
        assert_error(
            getattr(other_api, method)(ds + "/index?type=raptor"),
            RetCode.DATA_ERROR,
            "no authorization",
        )
    assert EnrichmentJob.objects.count() == 0


def test_the_cost_limit_stops_the_job_with_a_clear_message(
    tenant, api, llm_provider, llm_server, settings, django_capture_on_commit_callbacks
) -> None:
    settings.RAGSITE_ENRICHMENT_MAX_CALLS = 2
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor"))
    assert trace["progress"] == -1 and trace["status"] == "failed"
    assert "limit of 2 chat-model calls (RAGSITE_ENRICHMENT_MAX_CALLS)" in trace["progress_msg"]
    assert trace["llm_calls"] == 2 and len(llm_server.requests) == 2


def test_a_provider_error_names_the_chunks_and_the_service_message(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    llm_server.fail_with(503, "the GPU caught fire")
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor"))
    assert trace["status"] == "failed"
    line = trace["progress_msg"].splitlines()[-1]
    assert "[ERROR] RAPTOR summary (layer 1) of document notes0.txt, chunks " in line
    leaf_ids = set(Chunk.objects.filter(dataset=dataset).values_list("pk", flat=True))
    assert any(pk in line for pk in leaf_ids)
    assert "HTTP 503" in line and "the GPU caught fire" in line
    assert summaries(dataset) == []


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_the_job_between_layers(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    """DELETE /index while the job runs: the worker notices at its next step and writes nothing."""
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    path = f"/api/v1/datasets/{dataset.pk}/index?type=raptor"

    def cancel_then_summarise(prompt, messages):
        from django.db import connection

        from knowledge.enrichment.jobs import job_cancel

        try:
            job_cancel(dataset=dataset, kind="raptor")  # in the server's thread, committed
        finally:
            connection.close()
        return answer_summary(prompt, messages)

    llm_server.register(is_summary_prompt, cancel_then_summarise)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(path))
    trace = assert_ok(api.get(path))
    assert trace["status"] == "cancelled" and trace["progress"] == -1
    assert "Cancelled by the user." in trace["progress_msg"]
    assert summaries(dataset) == []


def test_topics_are_summarised_apart(
    tenant, api, llm_provider, llm_server, django_capture_on_commit_callbacks
) -> None:
    """The first layer's clusters follow the topics: no layer-1 summary mixes all three."""
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    first_layer = [c.content for c in summaries(dataset) if c.raptor_level == 1]
    assert len(first_layer) >= 2
    for text in first_layer:
        mixed = [t for t, paragraphs in TOPICS.items() if any(p in text for p in paragraphs)]
        assert len(mixed) < 3, text


def test_the_v022_generation_gets_the_same_routes(
    tenant, api22, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    assert assert_ok(api22.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor")) == {}
    with django_capture_on_commit_callbacks(execute=True):
        started = assert_ok(api22.post(f"/api/v1/datasets/{dataset.pk}/run_raptor/"))
    assert started == {"raptor_task_id": started["task_id"], "task_id": started["task_id"]}
    trace = assert_ok(api22.get(f"/api/v1/datasets/{dataset.pk}/trace_raptor/"))
    assert trace["progress"] == 1.0 and trace["retry_count"] == 1
    assert {"id", "doc_id", "from_page", "to_page", "task_type", "priority", "begin_at",
            "process_duration", "progress", "progress_msg", "retry_count", "digest",
            "chunk_ids", "create_time", "create_date", "update_time", "update_date"} <= set(trace)  # fmt: skip
    listed = assert_ok(api22.get("/api/v1/datasets", {"id": dataset.pk}))
    assert listed[0]["raptor_task_id"] == started["task_id"]


def test_editing_a_summary_keeps_it_a_summary(
    tenant, api, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_raptor"))
    summary = summaries(dataset)[0]
    path = f"/api/v1/datasets/{dataset.pk}/documents/{summary.document_id}/chunks/{summary.pk}"
    assert_ok(api.put(path, {"content": "An edited summary of the walruses."}))
    edited = Chunk.objects.get(pk=summary.pk)
    assert edited.content == "An edited summary of the walruses."
    assert edited.raptor_level == summary.raptor_level
