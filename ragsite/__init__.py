"""ragsite. The Celery app (ragsite.celery) is loaded by Django's app registry
(ragsite.accounts' AppConfig.ready), by `celery -A ragsite` and on first use of
`ragsite.celery_app`, not on import of this package: ragsite.launcher, a supervisor that runs
for the whole `make run`, imports ragsite.launcher and ragsite.embedded only and stays ~30 MB
lighter without Celery and Django."""

from __future__ import annotations

from typing import Any

__all__ = ["celery_app"]


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        from ragsite.celery import app

        return app
    raise AttributeError(f"module 'ragsite' has no attribute {name!r}")
