"""Acceptance: the seed walkthrough (the user's guide, 29 steps) through each official client.

A real Daphne + Celery worker + Valkey on the session's PostgreSQL (tests/conftest.py), keys issued
by the real `manage.py create_api_key --generation …`, and tests/acceptance/seed_walkthrough.py run
as a subprocess: ragflow-sdk 0.22.1 in the project venv with a v0.22 key, ragflow-sdk 0.27.3 in
the Python 3.13 venv that tests/sdk_clients.py builds (or reuses) with a v0.27 key. Each must end
with "29 passed, 0 failed". `make walkthrough` runs the same against `make run`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ragsite.accounts.models import User
from tests.conftest import ROOT, live_env
from tests.sdk_clients import (
    SDK22,
    SDK27,
    SHARED_WALKTHROUGH,
    WALKTHROUGH,
    WALKTHROUGH_STEPS,
    SdkClient,
    SdkUnavailable,
    run_walkthrough,
    sdk22_client,
    sdk27_client,
)


def test_repo_copy_is_the_shared_walkthrough() -> None:
    """tests/acceptance/seed_walkthrough.py is ../shared/acceptance/seed_walkthrough.py verbatim."""
    if not SHARED_WALKTHROUGH.exists():
        pytest.skip(f"{SHARED_WALKTHROUGH} is absent (no ../shared beside the repo)")
    assert WALKTHROUGH.read_bytes() == SHARED_WALKTHROUGH.read_bytes(), (
        f"{WALKTHROUGH} differs from {SHARED_WALKTHROUGH}: copy the shared one over it"
    )


@pytest.fixture(scope="session")
def sdk_clients() -> dict[str, SdkClient | str]:
    """Each ragflow-sdk version's client, or why it cannot run here."""
    clients: dict[str, SdkClient | str] = {}
    for sdk, make in ((SDK22, sdk22_client), (SDK27, sdk27_client)):
        try:
            clients[sdk] = make()
        except SdkUnavailable as exc:
            clients[sdk] = str(exc)
    return clients


def create_api_key(workdir: Path, redis_url: str, username: str, generation: str) -> str:
    """The real management command, on the live servers' database; the key is its last line."""
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", username, "--generation", generation],
        cwd=ROOT, env=live_env(workdir, redis_url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"({generation})" in done.stderr, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "sdk",
    [SDK22, SDK27],
)
def test_seed_walkthrough_passes_with_each_sdk(
    sdk: str,
    sdk_clients: dict[str, SdkClient | str],
    live_server_url: str,
    live_workdir: Path,
    valkey_url: str,
) -> None:
    client = sdk_clients[sdk]
    if isinstance(client, str):
        pytest.skip(client)
    User.objects.create_user(f"walker-{sdk}", password="walker-password-1")
    key = create_api_key(live_workdir, valkey_url, f"walker-{sdk}", client.generation)

    result = run_walkthrough(client, live_server_url, key)

    print(result.output)  # shown by pytest on failure
    failing = [line for status, line in result.steps if status == "FAIL"]
    assert result.last_line == f"{WALKTHROUGH_STEPS} passed, 0 failed", (
        f"ragflow-sdk {sdk} ({client.python}): {result.last_line!r}; failing steps: {failing}\n"
        f"--- full output ---\n{result.output}"
    )
    assert result.returncode == 0, result.output
    assert len(result.steps) == WALKTHROUGH_STEPS
