"""The cluster under test: started once per session on its own ports and directory.

Tests marked `cluster` need Debian's postgresql (with pgvector), redis-server, nginx and the
s3rver npm package (`make cluster-deps`). A plain `pytest` runs the smoke tests and skips the
fault tests (`@pytest.mark.cluster(fault=True)`); they run when the marker is selected, as
`make test` and `make test-cluster` do (`pytest tests/cluster -m cluster`). There
RAGSITE_CLUSTER_REQUIRED=1 is set, and a missing part fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragsite.cluster.client import Api
from ragsite.cluster.topology import S3RVER, Cluster, ClusterError, Ports, pg_bin_dir

# Ports of their own (make run-cluster uses 9580-9590, 5580, 6580).
PORTS = Ports(proxy=9560, postgres=5560, redis=6560, s3=9570, webs=2)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster: runs on the scale-out topology (fault=True: only with -m cluster)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="fault test on the cluster: run `make test-cluster`")
    for item in items:
        marker = item.get_closest_marker("cluster")
        if marker is not None and marker.kwargs.get("fault"):
            item.add_marker(skip)


def missing_dependencies() -> str | None:
    try:
        pg_bin_dir()
    except ClusterError as exc:
        return str(exc)
    for program in ("redis-server", "nginx"):
        if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
            return f"{program} is not installed (make cluster-deps)"
    if not S3RVER.exists():
        return f"{S3RVER} is missing (make cluster-deps)"
    return None


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if reason := missing_dependencies():
        if os.environ.get("RAGSITE_CLUSTER_REQUIRED") == "1":
            pytest.fail(f"RAGSITE_CLUSTER_REQUIRED=1: {reason}", pytrace=False)
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="ragsite-cluster-test-"))
    # Parses that lost their worker are found quickly (production: 60 s).
    extra = {"RAGSITE_PARSE_STALE_SECONDS": "15", "RAGSITE_PARSE_RECOVERY_SECONDS": "5"}
    cluster = Cluster(directory, PORTS, workers=2, media="s3", extra_env=extra)
    cluster.start(say=lambda text: None)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster_key(cluster: Cluster) -> str:
    cluster.manage("bootstrap_admin")
    return cluster.manage("create_api_key", "admin").strip().splitlines()[-1]


@pytest.fixture
def cluster_api(cluster: Cluster, cluster_key: str) -> Iterator[Api]:
    api = Api(cluster.url, cluster_key)
    yield api
    api.close()
