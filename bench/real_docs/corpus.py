"""The corpus: a fixed list of HTML pages from two Debian documentation packages.

`python3.11-doc` (the Python 3.11 library reference) and `postgresql-doc-15` (the PostgreSQL 15
manual) are installed with apt-get when missing. Each page is uploaded as the .html file itself,
renamed `python-<page>.html` / `postgresql-<page>.html` so that names are distinct and say
where a page comes from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning


@dataclass(frozen=True)
class Source:
    package: str
    prefix: str
    directory: Path
    pages: tuple[str, ...]


SOURCES = (
    Source("python3.11-doc", "python-", Path("/usr/share/doc/python3.11/html/library"), (
        "argparse", "asyncio-queue", "asyncio-sync", "asyncio-task", "base64", "bisect",
        "collections", "concurrent.futures", "configparser", "contextlib", "csv", "dataclasses",
        "datetime", "enum", "functools", "glob", "hashlib", "heapq", "itertools", "json",
        "logging", "os.path", "pathlib", "pickle", "random", "re", "secrets", "shutil",
        "sqlite3", "statistics", "subprocess", "tarfile", "tempfile", "textwrap", "threading",
        "timeit", "unittest", "urllib.parse", "uuid", "venv", "zipfile",
    )),
    Source("postgresql-doc-15", "postgresql-", Path("/usr/share/doc/postgresql-doc-15/html"), (
        "app-pgdump", "app-pgrestore", "arrays", "auth-pg-hba-conf", "backup-dump",
        "continuous-archiving", "datatype-json", "ddl-constraints", "ddl-generated-columns",
        "ddl-partitioning", "ddl-priv", "ddl-rowsecurity", "explicit-locking", "functions-json",
        "functions-sequence", "functions-window", "indexes-multicolumn", "indexes-partial",
        "indexes-types", "queries-with", "role-attributes", "routine-vacuuming",
        "runtime-config-autovacuum", "runtime-config-resource", "sql-copy", "sql-createindex",
        "sql-createrole", "sql-explain", "sql-grant", "sql-insert", "sql-notify", "sql-vacuum",
        "textsearch-intro", "transaction-iso", "tutorial-window", "using-explain",
        "wal-configuration",
    )),
)  # fmt: skip


def upload_name(source: Source, page: str) -> str:
    return f"{source.prefix}{page}.html"


def installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return done.returncode == 0 and done.stdout.endswith("installed")


def version(package: str) -> str:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else "not installed"


def versions() -> dict[str, str]:
    return {s.package: version(s.package) for s in SOURCES}


def missing_packages() -> list[str]:
    return [s.package for s in SOURCES if not installed(s.package)]


def install() -> None:
    """apt-get install the documentation packages that are missing (sudo when not root)."""
    missing = missing_packages()
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"apt-get not found: install {' '.join(missing)} by hand")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install_cmd = [*sudo, "apt-get", "install", "-y", *missing]
    if subprocess.run(install_cmd).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update"], check=True)
        subprocess.run(install_cmd, check=True)


def files() -> dict[str, Path]:
    """{upload name: installed path} for every selected page, without installing anything."""
    return {upload_name(s, page): s.directory / f"{page}.html" for s in SOURCES for page in s.pages}


def documents() -> list[Path]:
    """Install the packages if needed; the selected page files (missing ones are an error)."""
    install()
    paths = list(files().values())
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise FileNotFoundError(f"pages missing from the installed packages: {absent}")
    return paths


@cache
def page_text(upload: str) -> str:
    """The visible text of a page (scripts and styles dropped), whitespace collapsed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # PostgreSQL's XHTML
        soup = BeautifulSoup(files()[upload].read_bytes(), "lxml")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())
