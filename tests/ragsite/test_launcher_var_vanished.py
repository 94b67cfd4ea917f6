"""`make run` stopped after its var/ directory was deleted: a clean stop with one line about
it, no traceback, nothing left running (issue 16)."""

from __future__ import annotations

import shutil
import signal

import pytest

from tests.ragsite.conftest import Launch, assert_nothing_left


@pytest.mark.slow
def test_stopping_after_var_vanished_ends_cleanly(launch: Launch) -> None:
    start, var_dir, ports = launch
    run = start()
    run.wait_for(lambda line: "ragsite is running at" in line, "banner")
    run.wait_for(lambda line: line.startswith("worker |") and " ready." in line, "ready worker")

    shutil.rmtree(var_dir)
    run.proc.send_signal(signal.SIGINT)

    assert run.wait_exit() == 0, run.output
    assert "Traceback" not in run.output, run.output
    notes = [line for line in run.lines if "was deleted while the server ran" in line]
    assert notes == [
        f"launch | PostgreSQL's data directory {var_dir / 'postgres'} was deleted while the "
        "server ran; stopped the server by signal"
    ], run.output
    assert run.lines[-1] == "launch | stopped"
    assert_nothing_left(run, var_dir, ports)
