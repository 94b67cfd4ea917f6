"""The dataset page's LLM enrichment panel and RAPTOR chunks in the chunk browser."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from knowledge.models import Chunk, Dataset, Document
from tests.knowledge.enrichment.helpers import parsed_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(tenant) -> Client:
    client = Client()
    client.force_login(tenant)
    return client


def test_without_a_chat_model_the_page_says_what_to_configure(
    tenant, browser, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    page = browser.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "Configure a chat model provider first (Admin → Model providers)." in page
    assert "data-llm-missing" in page
    start = browser.post(f"/datasets/{dataset.pk}/raptor/start/", headers={"HX-Request": "true"})
    assert "Admin → Model providers" in start.content.decode()


def test_settings_are_saved_into_the_parser_config_and_the_dataset(
    tenant, browser, llm_provider
) -> None:
    from knowledge.services.datasets import dataset_create

    dataset = dataset_create(tenant=tenant, name="settings")
    response = browser.post(
        f"/datasets/{dataset.pk}/enrichment/settings/",
        {
            "enrichment-llm_id": "tiny@TestLLM",
            "enrichment-auto_keywords": "4",
            "enrichment-auto_questions": "2",
            "enrichment-use_raptor": "on",
            "enrichment-toc_extraction": "on",
        },
        headers={"HX-Request": "true"},
    )
    assert "Enrichment settings saved." in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.parser_config["toc_extraction"] is True
    page = browser.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'name="enrichment-toc_extraction"' in page and "Table of contents" in page
    assert dataset.llm_id == "tiny@TestLLM"
    assert dataset.parser_config["auto_keywords"] == 4
    assert dataset.parser_config["auto_questions"] == 2
    assert dataset.parser_config["raptor"]["use_raptor"] is True
    assert dataset.parser_config["raptor"]["max_cluster"] == 64  # the rest kept
    bad = browser.post(
        f"/datasets/{dataset.pk}/enrichment/settings/",
        {"enrichment-auto_keywords": "99", "enrichment-auto_questions": "0"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()


def test_raptor_and_graph_settings_are_saved_shown_and_used_by_the_builds(
    tenant, browser, llm_provider
) -> None:
    from knowledge.enrichment.raptor import raptor_settings
    from knowledge.services.datasets import dataset_create
    from knowledge.services.graph import GraphSettings

    dataset = dataset_create(tenant=tenant, name="graph settings")
    form = {
        "enrichment-auto_keywords": "0",
        "enrichment-auto_questions": "0",
        "enrichment-raptor_scope": "dataset",
        "enrichment-raptor_max_cluster": "8",
        "enrichment-raptor_threshold": "0.25",
        "enrichment-raptor_max_token": "128",
        "enrichment-raptor_prompt": "Summarise: {cluster_content}",
        "enrichment-graph_method": "general",
        "enrichment-graph_entity_types": " person, ship ,Person,,  shipyard  company ",
        "enrichment-graph_resolution": "on",
        "enrichment-graph_community": "on",
    }
    response = browser.post(
        f"/datasets/{dataset.pk}/enrichment/settings/", form, headers={"HX-Request": "true"}
    )
    assert "Enrichment settings saved." in response.content.decode()
    dataset.refresh_from_db()
    graph = GraphSettings.of(dataset)
    assert graph.method == "general"
    assert graph.entity_types == ["person", "ship", "shipyard company"]
    assert graph.resolution is True and graph.community is True
    raptor = raptor_settings(dataset)
    assert (raptor["scope"], raptor["max_cluster"], raptor["threshold"]) == ("dataset", 8, 0.25)
    assert raptor["max_token"] == 128 and raptor["prompt"] == "Summarise: {cluster_content}"
    assert dataset.parser_config["raptor"]["use_raptor"] is False
    assert dataset.parser_config["toc_extraction"] is False  # unticked

    page = browser.get(f"/datasets/{dataset.pk}/").content.decode()
    assert '<option value="general" selected>' in page
    assert 'value="person, ship, shipyard company"' in page
    for box in ("graph_resolution", "graph_community"):
        assert re.search(rf'<input type="checkbox" name="enrichment-{box}"[^>]* checked', page)
    assert re.search(r'<option value="dataset" selected>', page)

    # Unticked boxes turn off; an empty prompt and entity types restore the defaults.
    form.pop("enrichment-graph_resolution")
    form.update({"enrichment-raptor_prompt": " ", "enrichment-graph_entity_types": ""})
    browser.post(
        f"/datasets/{dataset.pk}/enrichment/settings/", form, headers={"HX-Request": "true"}
    )
    dataset.refresh_from_db()
    graph = GraphSettings.of(dataset)
    assert graph.resolution is False and graph.community is True
    assert graph.entity_types == ["organization", "person", "geo", "event", "category"]
    assert raptor_settings(dataset)["prompt"].startswith("Please summarize")

    for field, value in (
        ("enrichment-raptor_threshold", "1.5"),
        ("enrichment-raptor_max_cluster", "0"),
        ("enrichment-raptor_scope", "everything"),
        ("enrichment-graph_method", "guess"),
        ("enrichment-graph_entity_types", ",".join(f"type{i}" for i in range(21))),
        ("enrichment-graph_entity_types", "x" * 51),
    ):
        bad = browser.post(
            f"/datasets/{dataset.pk}/enrichment/settings/",
            {**form, field: value},
            headers={"HX-Request": "true"},
        )
        assert bad.status_code == 200 and "errorlist" in bad.content.decode(), field
    dataset.refresh_from_db()
    assert raptor_settings(dataset)["threshold"] == 0.25

    # A method only the API sets (v0.27's "ner") is shown and kept by a save.
    dataset.parser_config["graphrag"]["method"] = "ner"
    dataset.save(update_fields=["parser_config"])
    page = browser.get(f"/datasets/{dataset.pk}/").content.decode()
    assert '<option value="ner" selected>' in page
    browser.post(
        f"/datasets/{dataset.pk}/enrichment/settings/",
        {**form, "enrichment-graph_method": "ner"},
        headers={"HX-Request": "true"},
    )
    dataset.refresh_from_db()
    assert dataset.parser_config["graphrag"]["method"] == "ner"


def test_building_raptor_from_the_page_shows_progress_and_marks_summary_chunks(
    tenant, browser, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        panel = browser.post(
            f"/datasets/{dataset.pk}/raptor/start/", headers={"HX-Request": "true"}
        ).content.decode()
    assert 'data-raptor-status="queued"' in panel  # rendered before the eager task ran
    panel = browser.get(
        f"/datasets/{dataset.pk}/enrichment/", headers={"HX-Request": "true"}
    ).content.decode()
    assert 'data-raptor-status="done"' in panel and "Task done" in panel
    document = Document.objects.get(dataset=dataset)
    chunks_page = browser.get(f"/datasets/{dataset.pk}/documents/{document.pk}/chunks/")
    html = chunks_page.content.decode()
    layers = set(
        Chunk.objects.filter(dataset=dataset, raptor_level__gt=0).values_list(
            "raptor_level", flat=True
        )
    )
    assert layers and all(f'data-raptor-level="{n}"' in html for n in layers)
    assert "RAPTOR summary · layer 1" in html


def test_other_users_cannot_use_the_panel(
    tenant, other_tenant, llm_provider, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    intruder = Client()
    intruder.force_login(other_tenant)
    for path in ("raptor/start/", "raptor/stop/", "enrichment/settings/"):
        assert intruder.post(f"/datasets/{dataset.pk}/{path}").status_code == 404
    assert intruder.get(f"/datasets/{dataset.pk}/enrichment/").status_code == 404
    assert Dataset.objects.get(pk=dataset.pk).raptor_task_id == ""


def test_staff_see_jobs_in_the_admin_and_a_link_to_the_providers(
    tenant, django_capture_on_commit_callbacks
) -> None:
    from ragsite.accounts.models import User

    dataset = parsed_dataset(tenant, django_capture_on_commit_callbacks)
    root = Client()
    root.force_login(User.objects.create_superuser("root", "root@example.com", "root-pass-1"))
    assert root.get("/admin/knowledge/enrichmentjob/").status_code == 200
    assert root.get("/admin/knowledge/enrichmentjob/add/").status_code == 403
    Dataset.objects.filter(pk=dataset.pk).update(tenant=User.objects.get(username="root"))
    page = root.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'href="/admin/knowledge/modelprovider/"' in page
