"""scripts/venv.sh: which Python it takes, and what it says when there is none it can use."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "venv.sh"
# Just enough of a system for the script to run, with no Python on PATH.
TOOLS = ["bash", "env", "cat", "sed", "grep", "ls", "sort", "head", "mktemp", "rm", "dirname"]


def _bin_dir(tmp_path: Path, **fakes: str) -> Path:
    """A PATH folder with the shell tools and, for each name in `fakes`, a fake interpreter
    printing that version."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    for name, version in fakes.items():
        fake = bin_dir / name.replace("_", ".")
        fake.write_text(f"#!{shutil.which('bash')}\necho {version}\n")
        fake.chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, bin_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [str(bin_dir / "bash"), str(SCRIPT), str(tmp_path / "venv")],
        env={
            "PATH": str(bin_dir),
            "HOME": str(home),
            "PYENV_ROOT": str(tmp_path / "no-pyenv"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_usable_python_stops_with_the_versions_and_how_to_get_one(tmp_path: Path) -> None:
    done = _run(tmp_path, _bin_dir(tmp_path, python3="3.10", python3_10="3.10"))
    assert done.returncode == 2
    assert "ragsite needs Python 3.11, 3.12 or 3.13, and none was found" in done.stderr
    assert "pyenv install 3.13" in done.stderr and "make venv PYTHON=" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_an_unsupported_python_named_by_hand_is_refused(tmp_path: Path) -> None:
    bin_dir = _bin_dir(tmp_path, python3_10="3.10")
    done = _run(tmp_path, bin_dir, PYTHON=str(bin_dir / "python3.10"))
    assert done.returncode == 1
    assert "is Python 3.10; ragsite needs Python 3.11, 3.12 or 3.13." in done.stderr
    assert not (tmp_path / "venv").exists()


def test_a_python_that_does_not_run_is_refused(tmp_path: Path) -> None:
    done = _run(tmp_path, _bin_dir(tmp_path), PYTHON=str(tmp_path / "missing-python"))
    assert done.returncode == 1
    assert "does not run" in done.stderr


def test_an_existing_venv_of_another_version_is_not_reused_silently(tmp_path: Path) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    bin_dir = _bin_dir(tmp_path, **{f"python{other.replace('.', '_')}": other})
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True
    )
    done = _run(tmp_path, bin_dir, PYTHON=str(bin_dir / f"python{other}"))
    assert done.returncode == 1
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"is Python {mine} but PYTHON=" in done.stderr and "remove" in done.stderr


def test_pyproject_and_the_script_name_the_same_pythons() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"
    assert 'supported="3.11 3.12 3.13"' in SCRIPT.read_text()
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11, 3.12 or 3.13" in readme


def test_torch_stays_pinned_exactly() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = [d for d in deps if re.match(r"torch\b", d)]
    assert torch == ["torch==2.13.0"]


def test_the_readme_links_no_file_outside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    local = [t for t in targets if not re.match(r"[a-z]+://|#|mailto:", t)]
    for target in local:
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), target
    assert "../" not in readme and os.sep + "work" + os.sep not in readme
