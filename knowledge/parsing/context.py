"""Progress, cancellation and notes for one parse."""

from __future__ import annotations

import time
from collections.abc import Callable

from knowledge.parsing.types import ParseCancelled

# The caller logs every progress message and may query the database in should_stop, so both are
# rate-limited; phase changes are always reported.
PROGRESS_INTERVAL_SECONDS = 2.0
STOP_POLL_SECONDS = 0.5


class ParseContext:
    """Progress, cancellation and notes for one parse, split into phases of the progress bar."""

    def __init__(
        self,
        progress: Callable[[float, str], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.notes: list[str] = []
        self._progress = progress
        self._should_stop = should_stop
        self._span = (0.0, 1.0)
        self._reported = 0.0
        self._last_report = float("-inf")
        self._last_poll = float("-inf")

    def note(self, text: str) -> None:
        """Add a sentence for the progress log, once."""
        if text not in self.notes:
            self.notes.append(text)

    def phase(self, start: float, end: float, message: str) -> None:
        """Enter the part of the progress bar between `start` and `end`; always reported."""
        self._span = (start, end)
        self.check_stop(force=True)
        self.report(0.0, message, force=True)

    def report(self, fraction: float, message: str, *, force: bool = False) -> None:
        """Report `fraction` (0..1) of the current phase; rate-limited unless forced."""
        if self._progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_report < PROGRESS_INTERVAL_SECONDS:
            return
        start, end = self._span
        overall = start + (end - start) * min(max(fraction, 0.0), 1.0)
        # The caller shows a progress bar, so it never moves backwards.
        self._reported = max(self._reported, overall)
        self._last_report = now
        self._progress(self._reported, message)

    def check_stop(self, *, force: bool = False) -> None:
        """Raise ParseCancelled if the caller wants the parse stopped (polled at a limited rate)."""
        if self._should_stop is None:
            return
        now = time.monotonic()
        if not force and now - self._last_poll < STOP_POLL_SECONDS:
            return
        self._last_poll = now
        if self._should_stop():
            raise ParseCancelled()

    def tick(self, done: int, total: int, message: str) -> None:
        """Between pages, slides or rows: maybe stop, maybe report `done/total` of the phase."""
        self.check_stop()
        self.report(done / total if total else 1.0, message)
