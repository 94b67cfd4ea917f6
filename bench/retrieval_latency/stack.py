"""One `python -m ragsite.launcher` in a temp dir on free ports, and a small API client."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300.0


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


class Stack:
    def __init__(self, keep: Path | None = None) -> None:
        # mkdtemp, not a 0700 pytest dir: the postgres system user must traverse it. With
        # `keep`, that directory is used and left in place (its database is reused next time).
        self.kept = keep is not None
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            keep.chmod(0o755)
        self.tmp = keep if keep is not None else Path(tempfile.mkdtemp(prefix="ragsite-latency-"))
        self.var_dir = self.tmp / "var"
        self.log_path = self.tmp / "launcher.log"
        web_port, valkey_port = free_ports(2)
        self.base_url = f"http://127.0.0.1:{web_port}"
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.env |= {
            "RAGSITE_VAR_DIR": str(self.var_dir),
            "RAGSITE_PORT": str(web_port),
            "RAGSITE_VALKEY_PORT": str(valkey_port),
            "RAGSITE_ADMIN_PASSWORD": "bench-admin-password",
            "HF_HUB_OFFLINE": "1",
            # The runs ask the same 200 questions: without this, every run after the first
            # would answer from the question-vector cache and skip the query embedding.
            "RAGSITE_QUERY_CACHE_SIZE": os.environ.get("RAGSITE_QUERY_CACHE_SIZE", "0"),
        }
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ragsite.launcher"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "ragsite is running at" in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"launcher exited early:\n{self.output()[-4000:]}")
            time.sleep(0.5)
        raise RuntimeError(f"stack not ready after {START_TIMEOUT:.0f} s:\n{self.output()[-4000:]}")

    @property
    def database_url(self) -> str:
        """What the launcher exported to its children (the banner names it if not default)."""
        match = re.search(r"DATABASE_URL='([^']+)'", self.output())
        if match:
            return match.group(1)
        return f"postgresql://postgres@/ragsite?host={self.var_dir / 'postgres'}"

    def create_api_key(self) -> str:
        env = self.env | {"DATABASE_URL": self.database_url}
        done = subprocess.run(
            [sys.executable, "manage.py", "create_api_key", "admin", "--name", "latency"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        """SIGTERM the launcher (it stops its children and Postgres), then remove the temp dir."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        if not self.kept:
            shutil.rmtree(self.tmp, ignore_errors=True)


@contextlib.contextmanager
def running_stack(keep: Path | None = None) -> Iterator[Stack]:
    stack = Stack(keep)
    try:
        stack.wait_ready()
        yield stack
    except BaseException:
        print(stack.output()[-3000:], file=sys.stderr)
        raise
    finally:
        stack.stop()


class Api:
    """The few RAGFlow HTTP API calls the benchmark needs; raises on a non-zero `code`."""

    def __init__(self, base_url: str, key: str) -> None:
        self.base = base_url + "/api/v1"
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never through a proxy
        self.session.headers["Authorization"] = f"Bearer {key}"

    @staticmethod
    def _data(response: requests.Response) -> Any:
        response.raise_for_status()
        body = response.json()
        if body.get("code") != 0:
            raise RuntimeError(f"{response.request.method} {response.url}: {body}")
        return body.get("data")

    def create_dataset(self, name: str, embedding_model: str) -> str:
        body = {"name": name, "embedding_model": embedding_model, "chunk_method": "naive"}
        return str(self._data(self.session.post(f"{self.base}/datasets", json=body))["id"])

    def upload(self, dataset_id: str, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        parts = [("file", (name, blob, "text/plain")) for name, blob in files]
        url = f"{self.base}/datasets/{dataset_id}/documents"
        return list(self._data(self.session.post(url, files=parts)))

    def retrieval_live(self, dataset_id: str) -> tuple[bool, str]:
        """Whether POST /retrieval answers code 0, and what it said."""
        body = {"question": "ping", "dataset_ids": [dataset_id]}
        try:
            response = self.session.post(f"{self.base}/retrieval", json=body, timeout=60)
            ok = response.status_code == 200 and response.json().get("code") == 0
            return ok, f"HTTP {response.status_code} {response.text[:200]}"
        except (requests.RequestException, ValueError) as exc:
            return False, repr(exc)
