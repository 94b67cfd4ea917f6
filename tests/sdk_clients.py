"""The two official RAGFlow clients ragsite must serve, each in the Python it installs on.

- ragflow-sdk 0.22.1 (RAGFlow v0.22 API, Python 3.10-3.12) is a dev dependency of the project
  venv, `.venv` (Python 3.11).
- ragflow-sdk 0.27.3 (RAGFlow v0.27 API) requires Python 3.13, so it lives in a venv of its own,
  `.venv-sdk27/` (gitignored; `RAGSITE_SDK27_VENV` moves it), with the `openai` version that
  pyproject.toml's dev dependencies pin. It is built once and reused: it is rebuilt only when the
  pins or the Python change, so later runs need no network. Python 3.13 is looked up in
  `RAGSITE_PYTHON313`, then pyenv's versions (`$(pyenv root)/versions/3.13*`), then `python3.13`
  on PATH.

Importable without Django (tests and `make walkthrough` use it), and runnable:

    python -m tests.sdk_clients               # build (or reuse) the 0.27.3 venv, show both clients
    python -m tests.sdk_clients walkthrough   # the seed walkthrough with both, against RAGSITE_URL

`walkthrough` uses the keys in RAGSITE_API_KEY_V022 / RAGSITE_API_KEY_V027, or issues new ones with
`manage.py create_api_key $RAGSITE_WALKTHROUGH_USER` (default `admin`) on the database the
environment points at (the one `make run` uses, by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGH = ROOT / "tests" / "acceptance" / "seed_walkthrough.py"
SHARED_WALKTHROUGH = ROOT.parent / "shared" / "acceptance" / "seed_walkthrough.py"
WALKTHROUGH_STEPS = 29

SDK22 = "0.22.1"
SDK27 = "0.27.3"
GENERATION = {SDK22: "v0.22", SDK27: "v0.27"}
OPENAI_FALLBACK = "openai>=1.40"  # only if pyproject.toml pins none
STAMP_NAME = ".ragsite-pins.json"


class SdkUnavailable(Exception):
    """This machine cannot run the client (no suitable Python); the message says why."""


@dataclass(frozen=True)
class SdkClient:
    sdk: str  # the ragflow-sdk version, "0.22.1" or "0.27.3"
    python: Path  # an interpreter that imports exactly that ragflow-sdk and openai

    @property
    def generation(self) -> str:
        return GENERATION[self.sdk]


# --- pins and interpreters -------------------------------------------------------------------


def openai_pin(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The `openai==…` requirement of the project's dev dependencies, so both clients match."""
    data = tomllib.loads(pyproject.read_text())
    for req in data.get("project", {}).get("optional-dependencies", {}).get("dev", []):
        if re.match(r"openai\s*[=<>~!]", req):
            return str(req).replace(" ", "")
    return OPENAI_FALLBACK


def sdk27_pins() -> list[str]:
    return [f"ragflow-sdk=={SDK27}", openai_pin()]


def _python_version(exe: Path | str) -> tuple[str, str] | None:
    """(major.minor.micro, the real executable) of an interpreter, or None if it does not run."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    try:
        out = subprocess.run(
            [str(exe), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"],
            capture_output=True, text=True, timeout=30, env=env, check=True,
        ).stdout.split("\n")  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out[0].strip(), out[1].strip()


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            root = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            return Path(root) if root else None
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)[:3])


def find_python313() -> Path:
    """A CPython 3.13 executable (not a pyenv shim), or SdkUnavailable saying where it looked."""
    candidates: list[Path | str] = []
    if os.environ.get("RAGSITE_PYTHON313"):
        candidates.append(os.environ["RAGSITE_PYTHON313"])
    root = _pyenv_root()
    if root:
        found = sorted(root.glob("versions/3.13*/bin/python3.13"), key=_version_key, reverse=True)
        candidates.extend(p for p in found if re.fullmatch(r"3\.13\.\d+", p.parent.parent.name))
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        probed = _python_version(candidate)
        if probed and probed[0].startswith("3.13."):
            return Path(probed[1])
    raise SdkUnavailable(
        f"ragflow-sdk {SDK27} needs Python 3.13, and none was found (RAGSITE_PYTHON313, "
        f"{root / 'versions/3.13.*' if root else 'pyenv (not installed)'}, python3.13 on PATH); "
        "install one, e.g. `pyenv install 3.13.0`."
    )


def installed_version(python: Path, dist: str = "ragflow-sdk") -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return out.stdout.strip()
    return None


# --- the clients ------------------------------------------------------------------------------


def sdk22_client() -> SdkClient:
    """ragflow-sdk 0.22.1 in the project venv (the interpreter running this, or .venv's)."""
    for python in (Path(sys.executable), ROOT / ".venv" / "bin" / "python"):
        if python.exists() and installed_version(python) == SDK22:
            return SdkClient(SDK22, python)
    raise SdkUnavailable(
        f"ragflow-sdk {SDK22} is not installed in the project venv: run `make venv`."
    )


def sdk27_venv_dir() -> Path:
    return Path(os.environ.get("RAGSITE_SDK27_VENV") or ROOT / ".venv-sdk27")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time (a test session and `make walkthrough` may start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sdk27_client(log: bool = False) -> SdkClient:
    """ragflow-sdk 0.27.3 + openai in a Python 3.13 venv, built if missing or out of date.

    SdkUnavailable when there is no Python 3.13; RuntimeError (with pip's output) when the
    install itself fails.
    """
    venv = sdk27_venv_dir()
    python = venv / "bin" / "python"
    stamp_file = venv / STAMP_NAME
    with _locked(venv.with_name(venv.name + ".lock")):
        base = find_python313()
        wanted = {"python": str(base), "pins": sdk27_pins()}
        with contextlib.suppress(OSError, ValueError):
            if json.loads(stamp_file.read_text()) == wanted and python.exists():
                return SdkClient(SDK27, python)
        if log:
            print(f"Building {venv} for {' '.join(wanted['pins'])} on {base} ...", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [str(base), "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             *wanted["pins"]],
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        env.pop("VIRTUAL_ENV", None)
        for cmd in steps:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise RuntimeError(
                    f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                )
        got = installed_version(python)
        if got != SDK27:
            raise RuntimeError(f"{venv} has ragflow-sdk {got!r}, expected {SDK27}")
        stamp_file.write_text(json.dumps(wanted))
        return SdkClient(SDK27, python)


# --- the walkthrough ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkResult:
    client: SdkClient
    returncode: int
    output: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1].strip() if lines else ""

    @property
    def steps(self) -> list[tuple[str, str]]:
        """(PASS|FAIL, the step's line) in order."""
        return [
            (line[:4], line[4:].strip())
            for line in self.output.splitlines()
            if line.startswith(("PASS  ", "FAIL  "))
        ]

    @property
    def passed_all(self) -> bool:
        return self.returncode == 0 and self.last_line == f"{WALKTHROUGH_STEPS} passed, 0 failed"


def run_walkthrough(
    client: SdkClient,
    url: str,
    key: str,
    *,
    script: Path = WALKTHROUGH,
    timeout: float = 540,
    trace: bool = True,
) -> WalkResult:
    """Run the seed walkthrough with one client; stdout and stderr together, as printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env.pop("VIRTUAL_ENV", None)
    env.update(RAGSITE_URL=url, RAGSITE_API_KEY=key, PYTHONUNBUFFERED="1")
    if trace:
        env["RAGSITE_TRACE"] = "1"  # a traceback under each failing step
    try:
        done = subprocess.run(
            [str(client.python), str(script)],
            cwd=script.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        return WalkResult(client, -1, f"{out}\nTIMEOUT after {timeout:.0f}s")
    return WalkResult(client, done.returncode, done.stdout)


def issue_key(username: str, generation: str, name: str = "seed walkthrough") -> str:
    """`manage.py create_api_key` for real, on the database this environment points at."""
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", username, "--generation", generation,
         "--name", name],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"create_api_key failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def _walkthrough_main() -> int:
    url = os.environ.get("RAGSITE_URL", "http://127.0.0.1:9380")
    user = os.environ.get("RAGSITE_WALKTHROUGH_USER", "admin")
    lines: list[str] = []
    failed = False
    for sdk, make in ((SDK22, sdk22_client), (SDK27, lambda: sdk27_client(log=True))):
        try:
            client = make()
        except SdkUnavailable as exc:
            lines.append(f"ragflow-sdk {sdk}: not run: {exc}")
            failed = True
            continue
        env_name = f"RAGSITE_API_KEY_{client.generation.replace('.', '').upper()}"  # …_V022
        key = os.environ.get(env_name) or issue_key(user, client.generation)
        print(f"\n=== ragflow-sdk {sdk} ({client.python}) against {url} ===", flush=True)
        result = run_walkthrough(client, url, key, trace=False)
        print(result.output, end="", flush=True)
        lines.append(f"ragflow-sdk {sdk}: {result.last_line or '(no output)'}")
        failed = failed or not result.passed_all
    print("\n" + "\n".join(lines))
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["walkthrough"]:
        return _walkthrough_main()
    if argv:
        print(__doc__)
        return 2
    try:
        clients = [sdk22_client(), sdk27_client(log=True)]
    except SdkUnavailable as exc:
        print(exc)
        return 1
    for client in clients:
        print(f"ragflow-sdk {client.sdk} ({client.generation}): {client.python}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
