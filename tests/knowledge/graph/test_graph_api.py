"""Knowledge graphs through both API generations, built by the local test chat model
(tests/llm_server.py, taught the graph prompts by tests/graph_llm.py)."""

from __future__ import annotations

import pytest

from knowledge.models import GraphCommunity, GraphEntity, GraphRelation
from knowledge.services.retrieval import RetrievalRequest, retrieval_run
from ragsite.api.codes import RetCode
from tests.graph_llm import is_extraction_prompt, register
from tests.helpers import assert_error, assert_ok
from tests.knowledge.graph.corpus import ANSWER, GRAPH_CONFIG, LINES, QUESTION, parsed_lines

pytestmark = pytest.mark.django_db

NODE_KEYS = {
    "entity_name", "entity_type", "description", "source_id", "rank", "pagerank",
    "communities", "id",
}  # fmt: skip
EDGE_KEYS = {
    "src_id",
    "tgt_id",
    "description",
    "keywords",
    "weight",
    "source_id",
    "source",
    "target",
}


@pytest.fixture
def graph_llm(llm_server):
    return register(llm_server)


def built(tenant, api, capture, **config):
    dataset = parsed_lines(tenant, capture, **{**GRAPH_CONFIG, **config})
    with capture(execute=True):
        data = assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_graphrag"))
    assert data["graphrag_task_id"] == data["task_id"]
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_graphrag"))
    assert trace["id"] == data["task_id"] and trace["task_type"] == "graphrag"
    assert trace["progress"] == 1.0, trace["progress_msg"]
    dataset.refresh_from_db()
    return dataset, trace


def test_run_graphrag_extracts_resolves_and_reports_communities(
    tenant, api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset, trace = built(tenant, api, django_capture_on_commit_callbacks)
    names = set(GraphEntity.objects.filter(dataset=dataset).values_list("name", flat=True))
    assert {"ALICE NOVAK", "BOREALIS LABS", "KIRKENES", "MARCO RUIZ", "VELA SYSTEMS"} <= names
    # Resolution: "Borealis Lab" (chunk 2) is "Borealis Labs" (chunk 1).
    assert "BOREALIS LAB" not in names
    labs = GraphEntity.objects.get(dataset=dataset, name="BOREALIS LABS")
    assert labs.entity_type == "organization" and len(labs.chunk_ids) == 2
    assert "Kirkenes" in labs.description and labs.embedding_dim == 384
    pairs = set(GraphRelation.objects.filter(dataset=dataset).values_list("source", "target"))
    assert {("ALICE NOVAK", "BOREALIS LABS"), ("BOREALIS LABS", "KIRKENES")} <= pairs
    # Communities: the two founder stories are apart, each with a report from the model.
    communities = {tuple(c.entities): c for c in GraphCommunity.objects.filter(dataset=dataset)}
    assert ("ALICE NOVAK", "BOREALIS LABS", "KIRKENES") in communities
    assert ("LISBON", "MARCO RUIZ", "VELA SYSTEMS") in communities
    report = communities[("ALICE NOVAK", "BOREALIS LABS", "KIRKENES")]
    assert report.title.startswith("Community of BOREALIS LABS")
    assert any("Kirkenes" in f["explanation"] for f in report.findings)
    assert "Knowledge graph:" in trace["progress_msg"] and trace["llm_calls"] > len(LINES)

    data = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/knowledge_graph"))
    assert set(data) == {"graph", "mind_map"} and data["mind_map"] == {}
    graph = data["graph"]
    assert graph["directed"] is False and graph["multigraph"] is False
    assert {n["id"] for n in graph["nodes"]} == names
    assert all(set(n) == NODE_KEYS for n in graph["nodes"])
    assert all(set(e) == EDGE_KEYS for e in graph["edges"])
    ranks = [n["pagerank"] for n in graph["nodes"]]
    assert ranks == sorted(ranks, reverse=True)
    labs_node = next(n for n in graph["nodes"] if n["id"] == "BOREALIS LABS")
    assert labs_node["entity_type"] == "ORGANIZATION" and labs_node["rank"] == 2
    assert labs_node["communities"] == [report.title]
    # v0.27 reads the same graph.
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/graph")) == data
    listed = assert_ok(api.get(f"/api/v1/datasets?id={dataset.pk}"))[0]
    assert listed["graphrag_task_id"] == trace["id"] and listed["graphrag_task_finish_at"]


def test_a_two_hop_answer_is_found_only_through_the_graph(
    tenant, api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset, _ = built(tenant, api, django_capture_on_commit_callbacks)
    body = {"question": QUESTION, "dataset_ids": [dataset.pk]}
    plain = assert_ok(api.post("/api/v1/retrieval", {**body, "use_kg": False}))
    assert plain["chunks"] and not any(ANSWER in c["content"] for c in plain["chunks"])
    with_graph = assert_ok(api.post("/api/v1/retrieval", {**body, "use_kg": True}))
    first = with_graph["chunks"][0]
    assert first["document_keyword"] == "Related content in Knowledge Graph"
    assert first["document_id"] == "" and first["similarity"] == 1.0
    assert "---- Entities ----" in first["content"] and "ALICE NOVAK" in first["content"]
    assert "BOREALIS LABS,KIRKENES" in first["content"]  # the second hop
    assert "---- Community Report ----" in first["content"]
    assert ANSWER in first["content"]
    assert with_graph["chunks"][1:] == plain["chunks"] and with_graph["total"] == plain["total"]
    # Without a graph (another dataset) use_kg changes nothing.
    bare = parsed_lines(tenant, django_capture_on_commit_callbacks, name="bare")
    result = retrieval_run(
        user=tenant,
        request=RetrievalRequest(question=QUESTION, dataset_ids=[bare.pk], use_kg=True),
    )
    assert result is not None and all(h.document_id for h in result.hits)


def test_a_chat_with_use_kg_gives_the_model_the_graph(
    tenant, api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset, _ = built(tenant, api, django_capture_on_commit_callbacks)
    chat = assert_ok(
        api.post(
            "/api/v1/chats",
            {
                "name": "graph chat",
                "dataset_ids": [dataset.pk],
                "llm": {"model_name": "tiny@TestLLM"},
                "prompt": {"use_kg": True},
            },
        )
    )
    assert chat["prompt"]["use_kg"] is True
    session = assert_ok(api.post(f"/api/v1/chats/{chat['id']}/sessions", {"name": "s"}))
    asked = len(graph_llm.requests)
    reply = assert_ok(
        api.post(
            f"/api/v1/chats/{chat['id']}/completions",
            {"question": QUESTION, "stream": False, "session_id": session["id"]},
        )
    )
    request = graph_llm.requests[asked]
    system = request["messages"][0]["content"]
    assert "Related content in Knowledge Graph" in system and ANSWER in system
    chunks = reply["reference"]["chunks"]
    assert chunks[0]["document_name"] == "Related content in Knowledge Graph"


def test_v027_routes_build_read_and_wipe(
    tenant, api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_lines(
        tenant, django_capture_on_commit_callbacks, name="graph27", **GRAPH_CONFIG
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/index?type=GRAPH"))
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/index?type=graph"))
    assert trace["id"] == started["task_id"] and trace["progress"] == 1.0
    graph = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/graph"))["graph"]
    assert graph["nodes"]
    # wipe=false cancels nothing here and keeps the graph; the default wipes it.
    assert assert_ok(api.delete(f"/api/v1/datasets/{dataset.pk}/graph?wipe=false")) == {}
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/graph"))["graph"] == graph
    assert assert_ok(api.delete(f"/api/v1/datasets/{dataset.pk}/graph")) == {}
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/graph")) == {
        "graph": {},
        "mind_map": {},
    }
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/index?type=graph")) == {}
    # v0.22's DELETE answers true.
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_graphrag"))
    assert GraphEntity.objects.filter(dataset=dataset).exists()
    assert assert_ok(api.delete(f"/api/v1/datasets/{dataset.pk}/knowledge_graph")) is True
    assert not GraphEntity.objects.filter(dataset=dataset).exists()
    assert not GraphRelation.objects.filter(dataset=dataset).exists()


def test_another_users_graph_is_refused(
    tenant, api, other_api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset, _ = built(tenant, api, django_capture_on_commit_callbacks)
    base = f"/api/v1/datasets/{dataset.pk}"
    for method, path in [
        ("get", "/knowledge_graph"),
        ("delete", "/knowledge_graph"),
        ("post", "/run_graphrag"),
        ("get", "/trace_graphrag"),
    ]:
        response = getattr(other_api, method)(base + path)
        assert_error(response, RetCode.AUTHENTICATION_ERROR, "No authorization.")
    assert_error(other_api.get(base + "/graph"), RetCode.AUTHENTICATION_ERROR, "no authorization")
    for method, path in [
        ("post", "/index?type=graph"),
        ("get", "/index?type=graph"),
        ("delete", "/graph"),
    ]:
        assert_error(
            getattr(other_api, method)(base + path), RetCode.DATA_ERROR, "no authorization"
        )
    assert GraphEntity.objects.filter(dataset=dataset).exists()
    # Retrieval over someone else's dataset is refused before any graph is read.
    response = other_api.post(
        "/api/v1/retrieval", {"question": QUESTION, "dataset_ids": [dataset.pk], "use_kg": True}
    )
    assert_error(response, RetCode.DATA_ERROR)


def test_without_a_chat_model_the_api_says_what_to_configure(
    tenant, api, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_lines(tenant, django_capture_on_commit_callbacks, name="nollm", **GRAPH_CONFIG)
    for path in ("/run_graphrag", "/index?type=graph"):
        response = api.post(f"/api/v1/datasets/{dataset.pk}{path}")
        message = assert_error(response, RetCode.DATA_ERROR)
        assert "chat model" in message and "OpenAI-compatible provider" in message
    assert assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_graphrag")) == {}


def test_a_provider_error_names_the_chunk_and_the_message(
    tenant, api, llm_provider, graph_llm, django_capture_on_commit_callbacks
) -> None:
    dataset = parsed_lines(tenant, django_capture_on_commit_callbacks, name="fails", **GRAPH_CONFIG)
    graph_llm.fail_with(503, "the GPU is on fire", when=is_extraction_prompt)
    with django_capture_on_commit_callbacks(execute=True):
        assert_ok(api.post(f"/api/v1/datasets/{dataset.pk}/run_graphrag"))
    trace = assert_ok(api.get(f"/api/v1/datasets/{dataset.pk}/trace_graphrag"))
    assert trace["progress"] == -1
    assert "[ERROR] Chunk " in trace["progress_msg"] and "note0.txt" in trace["progress_msg"]
    assert "HTTP 503" in trace["progress_msg"] and "the GPU is on fire" in trace["progress_msg"]
    assert not GraphEntity.objects.filter(dataset=dataset).exists()
