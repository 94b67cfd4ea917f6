"""ragsite. The Celery app (ragsite.celery) is loaded by Django's app registry
(ragsite.accounts' AppConfig.ready), by `celery -A ragsite` and on first use of
`ragsite.celery_app`, not on import of this package: ragsite.launcher, a supervisor that runs
for the whole `make run`, imports ragsite.launcher and ragsite.embedded only: without Celery and
Django it holds 41 MiB RSS instead of 52 (`make bench-memory`)."""

from __future__ import annotations

import os
from typing import Any

# No progress bars from model loading ("Loading weights: 100%|…" from transformers, tqdm bars
# from huggingface_hub and sentence-transformers): Celery re-logs a worker's stderr as
# WARNING lines, and in Daphne's log they are noise too. Set here because every ragsite
# process imports this package first, before any of those libraries read the variables;
# children (the ONNX export) inherit them. An explicit value wins. Real warnings from those
# libraries still show.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

__all__ = ["celery_app"]


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from ragsite.celery import app

        return app
    raise AttributeError(f"module 'ragsite' has no attribute {name!r}")
