"""A fresh web process loads the embedding model by itself, soon after it starts and before
any request, without delaying start-up (issue 17: the first chunk save took 2.8 s)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, _stop, _wait_for_port, free_port, live_env

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("preload", ["true", "false"])
def test_the_web_process_warms_the_embedding_model_without_a_request(
    django_db_setup: None, valkey_url: str, tmp_path: Path, preload: str
) -> None:
    log = tmp_path / "daphne.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "ragsite.asgi:application"],
            cwd=ROOT,
            env=live_env(tmp_path, valkey_url, RAGSITE_PRELOAD_MODELS=preload),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for_port(port, proc, log)  # listening: the load does not hold start-up back
        deadline = time.monotonic() + (120 if preload == "true" else 10)
        while "Warm-up finished" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
    finally:
        _stop(proc)
    assert '"GET ' not in text and '"POST ' not in text  # no request was made
    if preload == "false":
        assert "Loading embedding model" not in text and "Warm-up finished" not in text
        return
    assert "model warm-up failed" not in text, text
    loading = text.index("Loading embedding model sentence-transformers/all-MiniLM-L6-v2")
    assert loading < text.index("Warm-up finished after")
