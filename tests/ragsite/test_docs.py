"""The README and the other Markdown files of a clone only point at files the clone has."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "bench").glob("*/README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE_PATH = re.compile(r"`(\.\./[^`]+)`")


def _local_targets(text: str) -> list[str]:
    targets = [
        t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t) and not t.startswith("#")
    ]
    return [t.split("#", 1)[0] for t in targets]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve_inside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in _local_targets(text):
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing file: {target}"
    assert not CODE_PATH.findall(text), f"{doc.name} names paths outside the clone"
