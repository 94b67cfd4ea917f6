"""Running work in real parallel threads, each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_together(workers: list[Callable[[], None]]) -> None:
    """Start every worker at once, each in a thread with its own connection (closed when it
    ends); re-raise the first failure once all have finished."""
    start = threading.Barrier(len(workers), timeout=300)
    failures: list[BaseException] = []

    def wrapped(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
