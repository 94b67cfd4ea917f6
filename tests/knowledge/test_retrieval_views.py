"""Retrieval testing on a knowledge base's page: ranked chunks, scores, filters and errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Dataset, ModelProvider
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload, document_upload
from ragsite.accounts.models import User
from ragsite.api.errors import DataError

HTMX = {"HX-Request": "true"}
FACTS = {
    "walrus": "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "lighthouse": "Lighthouse keepers sounded the fog signal every morning at dawn.",
    "tax": "Tax forms for the fiscal year are due at the end of April.",
    "cat": "The cat sat on the mat and watched the birds.",
}
SEALS = {
    "spit": "Seals haul out on the northern spit of Kolguev at low tide.",
    "pups": "Seal pups are born on the ice in early spring.",
}


def make_document(dataset: Dataset, name: str, texts: dict[str, str]) -> dict[str, Any]:
    (document,) = document_upload(
        tenant=dataset.tenant,
        dataset=dataset,
        uploads=[Upload(name=name, file=ContentFile(b"notes"), size=5)],
    )
    ids = {key: chunk_add(document=document, content=text).pk for key, text in texts.items()}
    return {"document": document, **ids}


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


@pytest.fixture
def corpus(tenant: User) -> dict[str, Any]:
    """Two small documents whose right answers are obvious to a person."""
    dataset = dataset_create(tenant=tenant, name="arctic")
    return {
        "dataset": dataset,
        "facts": make_document(dataset, "facts.txt", FACTS),
        "seals": make_document(dataset, "seals.md", SEALS),
    }


def page_url(dataset: Dataset) -> str:
    return reverse("knowledge:retrieval_test", args=[dataset.pk])


def ask(client: Client, dataset: Dataset, question: str, **settings: Any) -> str:
    params = {
        "question": question,
        "vector_similarity_weight": "0.3",
        "similarity_threshold": "0",
        "top_n": "10",
        **settings,
    }
    response = client.get(page_url(dataset), params, headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def hits(html: str) -> list[str]:
    return re.findall(r'<li class="hit" id="hit-(\w+)">', html)


def hit(html: str, chunk_id: str) -> str:
    match = re.search(
        rf'<li class="hit" id="hit-{chunk_id}">.*?</li>\s*(?=<li class="hit"|</ol>)', html, re.S
    )
    assert match, chunk_id
    return match.group(0)


def scores(hit_html: str) -> dict[str, float]:
    found = re.findall(
        r'<div class="score score--(\w+)">.*?--score: ([\d.]+).*?class="score__value">([\d.]+)<',
        hit_html,
        re.S,
    )
    assert all(abs(float(bar) - float(value)) < 0.01 for _key, bar, value in found), found
    return {key: float(value) for key, _bar, value in found}


# --- the page ----------------------------------------------------------------------------------


def test_the_dataset_page_and_the_retrieval_page_share_tabs(alice: Client, corpus: dict) -> None:
    dataset = corpus["dataset"]
    documents_page = alice.get(reverse("knowledge:dataset_detail", args=[dataset.pk]))
    assert f'href="{page_url(dataset)}"' in documents_page.content.decode()

    page = alice.get(page_url(dataset)).content.decode()

    assert '<h1 class="dataset-head__name">arctic</h1>' in page
    assert re.search(rf'href="{page_url(dataset)}" aria-current="page">Retrieval test<', page)
    assert "Ask a question to see the chunks it finds" in page


def test_the_form_has_every_control_with_the_datasets_defaults(alice: Client, corpus: dict) -> None:
    dataset = corpus["dataset"]
    Dataset.objects.filter(pk=dataset.pk).update(vector_similarity_weight=0.45)

    page = alice.get(page_url(dataset)).content.decode()

    assert 'name="question"' in page
    weight = re.search(r'<input type="range" name="vector_similarity_weight"[^>]*>', page)
    assert weight and 'value="0.45"' in weight.group(0) and 'min="0"' in weight.group(0)
    assert 'max="1"' in weight.group(0)
    # The same words and direction as the chat settings: keyword left, semantic right.
    assert "Keyword ↔ Semantic" in page and "Semantic weight" in page
    ends = re.findall(r'<span class="range__end" aria-hidden="true">(\w+)</span>', page)
    assert ends[:2] == ["Keyword", "Semantic"]
    assert re.search(r'<input type="range" name="similarity_threshold"[^>]*value="0.2"', page)
    assert re.search(r'<input type="number" name="top_n" value="10"', page)
    documents = re.search(r'<select name="document_ids".*?</select>', page, re.S)
    assert documents and "multiple" in documents.group(0)
    assert ">facts.txt</option>" in documents.group(0) and ">seals.md</option>" in documents.group(
        0
    )
    # No rerank model is configured: no select to confuse anyone.
    assert 'name="rerank_id"' not in page


def test_rerank_models_of_enabled_providers_are_offered(alice: Client, corpus: dict) -> None:
    ModelProvider.objects.create(
        factory="TEI", base_url="http://127.0.0.1:9/", rerank_models="bge-reranker-v2-m3\n"
    )
    ModelProvider.objects.create(
        factory="Off", base_url="http://127.0.0.1:9/", rerank_models="old-reranker", enabled=False
    )

    page = alice.get(page_url(corpus["dataset"])).content.decode()

    select = re.search(r'<select name="rerank_id".*?</select>', page, re.S)
    assert select
    options = re.findall(r'<option value="([^"]*)"', select.group(0))
    assert options == ["", "bge-reranker-v2-m3@TEI"]


# --- searching ----------------------------------------------------------------------------------


def test_search_returns_ranked_hits_with_highlights_scores_and_links(
    alice: Client, corpus: dict
) -> None:
    dataset = corpus["dataset"]

    body = ask(alice, dataset, "How many walrus in Kolguev?")

    assert "<html" not in body
    ranked = hits(body)
    assert ranked[0] == corpus["facts"]["walrus"]
    first = hit(body, ranked[0])
    assert '<span class="hit__rank" aria-hidden="true">1</span>' in first
    assert "The <mark>walrus</mark> colony on <mark>Kolguev</mark> island was" in first
    first_scores = scores(first)
    assert set(first_scores) == {"similarity", "semantic", "keyword"}
    assert first_scores["keyword"] > 0 and first_scores["semantic"] > 0
    assert first_scores["keyword"] == max(scores(hit(body, c))["keyword"] for c in hits(body))
    # Similarity is the weighted sum, and the list is ordered by it.
    expected = 0.3 * first_scores["semantic"] + 0.7 * first_scores["keyword"]
    assert abs(first_scores["similarity"] - expected) < 0.02
    similarities = [scores(hit(body, chunk_id))["similarity"] for chunk_id in ranked]
    assert similarities == sorted(similarities, reverse=True)
    facts = corpus["facts"]["document"]
    download = reverse("knowledge:download_document", args=[dataset.pk, facts.pk])
    assert f'href="{download}"' in first and ">facts.txt</a>" in first
    browser = reverse("knowledge:document_chunks", args=[dataset.pk, facts.pk])
    assert f'href="{browser}?chunk={ranked[0]}#chunk-{ranked[0]}"' in first
    # The summary: how many matched, and from which documents.
    assert f"{len(ranked)} chunks match." in body
    aggs = re.search(r'<div class="doc-aggs">.*?</div>', body, re.S)
    assert aggs and "facts.txt" in aggs.group(0) and "seals.md" in aggs.group(0)


def test_top_n_limits_the_hits_and_says_how_many_matched(alice: Client, corpus: dict) -> None:
    body = ask(alice, corpus["dataset"], "Kolguev seals walrus", top_n="2")

    assert len(hits(body)) == 2
    assert re.search(r"\d+ chunks match; here are the best 2\.", body)


def test_the_document_filter_keeps_to_the_picked_documents(alice: Client, corpus: dict) -> None:
    seals = corpus["seals"]

    body = ask(alice, corpus["dataset"], "Kolguev", document_ids=[seals["document"].pk])

    assert set(hits(body)) == {seals["spit"], seals["pups"]}
    assert hits(body)[0] == seals["spit"]
    assert corpus["facts"]["walrus"] not in hits(body)  # Kolguev, but in the other document


def test_the_weight_slider_moves_between_keyword_and_semantic(alice: Client, corpus: dict) -> None:
    dataset = corpus["dataset"]
    keyword_only = ask(alice, dataset, "Kolguev", vector_similarity_weight="0")
    for chunk_id in hits(keyword_only):
        assert scores(hit(keyword_only, chunk_id))["similarity"] == pytest.approx(
            scores(hit(keyword_only, chunk_id))["keyword"], abs=0.01
        )
    semantic_only = ask(alice, dataset, "baby seals on ice", vector_similarity_weight="1")
    first = hit(semantic_only, hits(semantic_only)[0])
    assert hits(semantic_only)[0] == corpus["seals"]["pups"]
    assert scores(first)["similarity"] == pytest.approx(scores(first)["semantic"], abs=0.01)


def test_an_empty_question_asks_for_one(alice: Client, corpus: dict) -> None:
    body = ask(alice, corpus["dataset"], "   ")
    assert "Type a question first." in body and hits(body) == []


def test_nothing_similar_enough_says_what_to_try(alice: Client, corpus: dict) -> None:
    body = ask(alice, corpus["dataset"], "quantum chromodynamics", similarity_threshold="0.99")
    assert "No chunk is similar enough to the question." in body and hits(body) == []


def test_a_service_error_is_shown(
    alice: Client, corpus: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.views import retrieval

    def fail(**kwargs: Any) -> None:
        raise DataError("The embedding service is unreachable.")

    monkeypatch.setattr(retrieval, "retrieval_run", fail)

    body = ask(alice, corpus["dataset"], "walrus")

    assert 'role="alert"' in body
    assert "The search failed: The embedding service is unreachable." in body


def test_an_unreachable_rerank_model_is_reported(alice: Client, corpus: dict) -> None:
    ModelProvider.objects.create(
        factory="TEI", base_url="http://127.0.0.1:9/", rerank_models="bge-reranker-v2-m3"
    )

    body = ask(alice, corpus["dataset"], "walrus", rerank_id="bge-reranker-v2-m3@TEI")

    assert (
        "The search failed: The rerank service at http://127.0.0.1:9/rerank is unreachable" in body
    )


def test_a_link_with_only_a_question_uses_the_defaults(alice: Client, corpus: dict) -> None:
    dataset = corpus["dataset"]
    response = alice.get(page_url(dataset), {"question": "walrus Kolguev"})

    page = response.content.decode()
    assert hits(page)[0] == corpus["facts"]["walrus"]
    assert re.search(r'name="vector_similarity_weight"[^>]*value="0.3"', page)


def test_settings_out_of_range_are_explained(alice: Client, corpus: dict) -> None:
    body = ask(alice, corpus["dataset"], "walrus", top_n="0", similarity_threshold="2")
    assert "Check the settings:" in body
    assert "Top N:" in body and "Similarity threshold:" in body


def test_chunk_text_is_sanitized_around_the_highlights(alice: Client, tenant: User) -> None:
    dataset = dataset_create(tenant=tenant, name="html")
    make_document(dataset, "page.html", {"tag": "<b>Walrus</b> & <script>x()</script> tusks"})

    body = ask(alice, dataset, "walrus tusks")

    # The chunk is Markdown: its raw HTML sanitized (<b> kept, <script> dropped with its text).
    assert "<b><mark>Walrus</mark></b> &amp;  <mark>tusks</mark>" in body
    assert "<script>" not in body and "x()" not in body


def test_without_javascript_the_page_shows_the_results_and_keeps_the_form(
    alice: Client, corpus: dict
) -> None:
    dataset = corpus["dataset"]
    response = alice.get(
        page_url(dataset),
        {"question": "walrus Kolguev", "vector_similarity_weight": "0.5",
         "similarity_threshold": "0.1", "top_n": "3"},
    )  # fmt: skip

    page = response.content.decode()
    assert "<html" in page and hits(page)[0] == corpus["facts"]["walrus"]
    assert ">\nwalrus Kolguev</textarea>" in page
    assert re.search(r'name="vector_similarity_weight"[^>]*value="0.5"', page)
    assert 'data-range-output="retrieval-vector_similarity_weight">0.50</output>' in page
    assert "HX-Request" in response["Vary"]


# --- who may search ------------------------------------------------------------------------------


def test_team_mates_may_search_a_shared_knowledge_base(
    alice: Client, tenant: User, other_tenant: User
) -> None:
    team = Group.objects.create(name="support")
    tenant.groups.add(team)
    other_tenant.groups.add(team)
    shared = dataset_create(tenant=other_tenant, name="team-faq", permission="team")
    facts = make_document(shared, "facts.txt", FACTS)

    page = alice.get(page_url(shared)).content.decode()
    assert "Shared by charlie · read-only" in page

    assert hits(ask(alice, shared, "Kolguev walrus"))[0] == facts["walrus"]


@pytest.mark.parametrize("permission", ["me", "team"])
def test_others_get_404(alice: Client, other_tenant: User, permission: str) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret", permission=permission)
    make_document(theirs, "facts.txt", {"walrus": FACTS["walrus"]})

    assert alice.get(page_url(theirs)).status_code == 404
    assert alice.get(page_url(theirs), {"question": "walrus"}, headers=HTMX).status_code == 404


def test_a_document_filter_for_another_knowledge_base_is_refused(
    alice: Client, corpus: dict, other_tenant: User
) -> None:
    theirs = dataset_create(tenant=other_tenant, name="secret")
    document = make_document(theirs, "secret.txt", {"x": "Secret walrus plans."})["document"]

    body = ask(alice, corpus["dataset"], "walrus", document_ids=[document.pk])

    assert "Check the settings:" in body and "Secret walrus" not in body


def test_only_get_and_only_logged_in(client: Client, corpus: dict) -> None:
    assert client.get(page_url(corpus["dataset"])).status_code == 302
    client.force_login(corpus["dataset"].tenant)
    assert client.post(page_url(corpus["dataset"])).status_code == 405
