"""Running `make run`'s launcher for real in tests: a subprocess, its output, what it left behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import poll

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports nothing listens on right now (held together so they differ)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def http_status(url: str) -> int:
    """Status of GET url, bypassing any proxy configured in the environment."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class LauncherRun:
    """One `python -m ragsite.launcher` subprocess, its output collected by a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        """Start the launcher in its own session so signals reach only what we aim at."""
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ragsite.launcher"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        """Collect output lines until the pipe closes."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    def mark(self) -> int:
        """A position in the output, for waiting only on lines printed after it."""
        return len(self.lines)

    def wait_for(
        self,
        found: Callable[[str], bool],
        what: str,
        timeout: float = START_TIMEOUT,
        *,
        after: int = 0,
    ) -> str:
        """Wait until an output line (from `after` on) satisfies `found`, and return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if found(line):
                    return line
            if self.proc.poll() is not None:
                self.reader.join(5)
                pytest.fail(
                    f"launcher exited ({self.proc.returncode}) before {what}:\n{self.output}"
                )
            time.sleep(0.2)
        pytest.fail(f"no {what} within {timeout:.0f} s:\n{self.output}")

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the launcher to exit and its output to be fully read."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"launcher still running {timeout:.0f} s after being stopped:\n{self.output}"
            )
        self.reader.join(5)
        return code


def ours(var_dir: Path, ports: tuple[int, int]) -> list[str]:
    """Live processes belonging to a launcher run on var_dir (zombies don't count)."""
    web_port, valkey_port = ports
    marks = (str(var_dir), f"127.0.0.1:{valkey_port}", f"-p {web_port} ")
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        try:
            # Celery's command line says nothing about the run, but its environment does.
            in_env = proc.environ().get("RAGSITE_VAR_DIR") == str(var_dir)
        except psutil.Error:
            in_env = False
        if in_env or any(mark in cmdline for mark in marks):
            found.append(f"{proc.pid} {cmdline}")
    return found


def assert_nothing_left(run: LauncherRun, var_dir: Path, ports: tuple[int, int]) -> None:
    """After the launcher exits, none of the processes it started may remain."""
    # Exiting processes can linger for a few milliseconds after pg_ctl or wait() returns.
    deadline = time.monotonic() + 5
    while (left := ours(var_dir, ports)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}\n{run.output}"


def live_children(run: LauncherRun, marker: str) -> list[psutil.Process]:
    """The launcher's running children whose command line contains `marker`. A child that has
    just exited (or is a zombie) is left out, and one that has not exec'd yet still shows the
    launcher's own command line."""
    found = []
    for proc in psutil.Process(run.proc.pid).children():
        try:
            if marker in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_until(
    predicate: Callable[[], Any], what: str, run: LauncherRun, timeout: float, every: float = 0.5
) -> Any:
    """`poll` for a launcher run: fail with the launcher's output, and as soon as it exits."""

    def while_running() -> Any:
        value = predicate()
        if not value and run.proc.poll() is not None:
            pytest.fail(f"launcher exited ({run.proc.returncode}) before {what}:\n{run.output}")
        return value

    try:
        return poll(while_running, timeout, what, every)
    except AssertionError:
        pytest.fail(f"no {what} within {timeout:.0f} s:\n{run.output}")


Launch = tuple[Callable[..., LauncherRun], Path, tuple[int, int]]


@pytest.fixture
def launch() -> Iterator[Launch]:
    """A factory for launcher runs sharing one var dir and port pair, cleaned up afterwards."""
    # Not under tmp_path: pytest resets /tmp/pytest-of-<user> to 0700 whenever a session
    # starts, which would lock the postgres system user out of its data dir mid-test.
    var_dir = Path(tempfile.mkdtemp(prefix="ragsite-launcher-test-")) / "var"
    web_port, valkey_port = free_ports(2)
    ports = (web_port, valkey_port)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "RAGSITE_VAR_DIR": str(var_dir),
        "RAGSITE_PORT": str(ports[0]),
        "RAGSITE_VALKEY_PORT": str(ports[1]),
        "RAGSITE_ADMIN_PASSWORD": "launcher-test-password",
    }
    runs: list[LauncherRun] = []

    def start(**overrides: str) -> LauncherRun:
        """Start one launcher run, with `overrides` added to its environment."""
        runs.append(LauncherRun(env | overrides))
        return runs[-1]

    yield start, var_dir, ports
    # A failed assertion must not leave a stack running on the box.
    for run in runs:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGCONT)  # a test may have frozen it
            run.proc.terminate()
            try:
                run.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                run.proc.kill()
    for line in ours(var_dir, ports):
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(int(line.split()[0])).kill()
    shutil.rmtree(var_dir.parent, ignore_errors=True)
