"""The benchmark's PDFs: fetched from Debian's documentation packages, never committed.

Each source names a package and a file inside it. `fetch()` runs `apt-get download` for the
packages it still needs (no install, no root: the .deb lands in the cache), unpacks only the
wanted files with `dpkg-deb --fsys-tarfile | tar -x`, and keeps them under
`$RAGSITE_BENCH_CACHE` (default `~/.cache/ragsite/bench-parsing`), so later runs need no network.
The PDFs are TeX class samples and manuals (LPPL) written by their packages' authors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DOC_ROOT = "usr/share/doc/texlive-doc/latex"


@dataclass(frozen=True)
class Source:
    name: str  # the file name used in the benchmark and in expectations.json
    package: str
    path: str  # inside the package

    @property
    def member(self) -> str:
        return f"./{self.path}"


SOURCES = (
    Source("acm-sigconf.pdf", "texlive-publishers-doc", f"{DOC_ROOT}/acmart/samples/sample-sigconf.pdf"),
    Source("aps-revtex.pdf", "texlive-publishers-doc", f"{DOC_ROOT}/revtex/sample/aps/apssamp.pdf"),
    Source("elsarticle-5p.pdf", "texlive-publishers-doc", f"{DOC_ROOT}/elsarticle/elstest-5p.pdf"),
    Source("asme-conf.pdf", "texlive-publishers-doc", f"{DOC_ROOT}/asmeconf/asmeconf-template.pdf"),
    Source("ieee-testflow.pdf", "texlive-publishers-doc", f"{DOC_ROOT}/ieeetran/testflow_doc.pdf"),
    Source("booktabs.pdf", "texlive-latex-recommended-doc", f"{DOC_ROOT}/booktabs/booktabs.pdf"),
)  # fmt: skip


class FetchError(Exception):
    """A package could not be downloaded or unpacked; the message says which and why."""


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "ragsite" / "bench-parsing"
    return Path(os.environ.get("RAGSITE_BENCH_CACHE", default))


def fetch(names: list[str] | None = None) -> dict[str, Path]:
    """Paths of the wanted PDFs (all by default), downloading their packages if needed."""
    wanted = [s for s in SOURCES if names is None or s.name in names]
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    missing = [s for s in wanted if not (root / s.name).exists()]
    for package in sorted({s.package for s in missing}):
        _unpack(package, [s for s in missing if s.package == package], root)
    return {s.name: root / s.name for s in wanted}


def versions() -> dict[str, str]:
    """Package versions of the cached files (written when they were fetched)."""
    result = {}
    for path in cache_dir().glob("*.version"):
        result[path.stem] = path.read_text().strip()
    return result


def _unpack(package: str, sources: list[Source], root: Path) -> None:
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise FetchError("apt-get and dpkg-deb are needed to fetch the benchmark's PDFs")
    with tempfile.TemporaryDirectory(prefix="bench-parsing-") as tmp:
        work = Path(tmp)
        done = subprocess.run(
            ["apt-get", "download", package], cwd=work, capture_output=True, text=True
        )
        debs = list(work.glob(f"{package}_*.deb"))
        if done.returncode != 0 or not debs:
            hint = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no .deb"]
            raise FetchError(
                f"apt-get download {package} failed ({hint[0]}); run 'apt-get update' first"
            )
        deb = debs[0]
        tarball = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], cwd=work, capture_output=True, check=True
        ).stdout
        members = [s.member for s in sources]
        subprocess.run(
            ["tar", "-x", "-C", str(work), *members], input=tarball, check=True, capture_output=True
        )
        for source in sources:
            shutil.copyfile(work / source.path, root / source.name)
        version = deb.name.split("_")[1]
        (root / f"{package}.version").write_text(version + "\n")
