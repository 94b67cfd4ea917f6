"""The scale-out topology comes up and serves the whole document path through nginx, with the
originals on the S3 server and the parse done by a Celery worker reading them from there."""

from __future__ import annotations

import pytest

from ragsite.cluster.client import Api
from ragsite.cluster.topology import S3_BUCKET, Cluster, http_status

pytestmark = pytest.mark.cluster

TEXT = (
    b"The kubelet runs on every node and starts the containers of its pods.\n\n"
    b"Pods are scheduled onto nodes by the scheduler.\n"
)


def s3_objects(cluster: Cluster) -> list[str]:
    bucket = cluster.directory / "s3" / S3_BUCKET
    return sorted(p.name for p in bucket.rglob("*._S3rver_object"))


def test_upload_parse_retrieve_download_delete_through_the_proxy(
    cluster: Cluster, cluster_api: Api
) -> None:
    assert http_status(cluster.url + "accounts/login/") == 200
    dataset = cluster_api.create_dataset("smoke")
    document = cluster_api.upload(dataset, "kubelet.txt", TEXT)
    assert f"{document}._S3rver_object" in s3_objects(cluster)
    assert not list((cluster.directory / "var").rglob(f"{document}*"))  # not on local disk

    cluster_api.parse(dataset, [document])
    doc = cluster_api.wait_parsed(dataset, document, timeout=180)
    assert doc["run"] == "DONE", doc
    assert doc["chunk_count"] == len(cluster_api.chunk_ids(dataset, document)) >= 1

    found = cluster_api.retrieval([dataset], "what runs on every node")
    assert found.code == 0
    assert "kubelet" in found.data["chunks"][0]["content"]
    assert cluster_api.download(dataset, document) == TEXT

    cluster_api.ok("DELETE", f"/datasets/{dataset}/documents", json={"ids": [document]})
    assert f"{document}._S3rver_object" not in s3_objects(cluster)


def test_both_web_processes_serve_and_the_proxy_answers_api_errors_as_envelopes(
    cluster: Cluster, cluster_api: Api
) -> None:
    for _ in range(6):
        cluster_api.ok("GET", "/datasets")
    access = (cluster.directory / "nginx" / "access.log").read_text()
    assert access  # nginx wrote it: the requests went through the proxy
    for port in cluster.ports.web:
        assert http_status(f"http://127.0.0.1:{port}/accounts/login/") == 200
    missing = cluster_api.call("GET", "/no-such-route")
    assert missing.code != 0
