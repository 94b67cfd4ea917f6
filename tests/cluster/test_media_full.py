"""A full media volume (local storage): the upload answers a clear envelope error and leaves no
half-written original and no document row. The volume is a real 1 MiB tmpfs (needs root)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge.models import Document

pytestmark = [pytest.mark.cluster, pytest.mark.django_db]


@pytest.fixture
def full_volume(tmp_path: Path, settings: Any) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "media"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "knowledge.storage.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(mount)},
        },
    }
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def upload(api: Any, dataset: str, name: str, body: bytes) -> dict[str, Any]:
    response = api.client.post(
        f"/api/v1/datasets/{dataset}/documents",
        {"file": SimpleUploadedFile(name, body)},
        headers=api.headers,
    )
    return dict(response.json())


def files_in(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def test_an_upload_larger_than_the_free_space_is_refused_whole(api: Any, full_volume: Path) -> None:
    dataset = api.post("/api/v1/datasets", {"name": "full"}).json()["data"]["id"]
    small = upload(api, dataset, "small.txt", b"The kubelet runs on every node.\n")
    assert small["code"] == 0, small
    before = files_in(full_volume)

    big = b"pods and nodes\n" * (160 * 1024)  # 2.3 MiB on a 1 MiB volume
    answer = upload(api, dataset, "big.txt", big)
    body = answer
    assert body["code"] != 0
    assert "No space left on the file storage" in body["message"]
    assert files_in(full_volume) == before  # no partial file, visible or hidden
    assert list(Document.objects.values_list("name", flat=True)) == ["small.txt"]

    # Once space is freed the same upload goes through.
    subprocess.run(["mount", "-o", "remount,size=4m", str(full_volume)], check=True)
    again = upload(api, dataset, "big.txt", big)
    assert again["code"] == 0, again
    stored = Document.objects.get(name="big.txt")
    assert (full_volume / stored.location).read_bytes() == big
