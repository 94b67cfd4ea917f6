"""The file manager under parallel requests (real threads, own connections): the first
requests of a new user make one root; same-named uploads into one folder all keep their bytes
under distinct names; links made while the file is renamed and moved all arrive."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from knowledge.models import Document, File, FileLink
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload
from knowledge.services.files import (
    file_root,
    files_link,
    files_move,
    files_upload,
    folder_create,
)
from ragsite.accounts.models import User
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_root_for_concurrent_first_requests(tenant: User) -> None:
    roots: list[str] = []
    run_together([lambda: roots.append(file_root(tenant).pk) for _ in range(6)])
    assert len(set(roots)) == 1
    assert File.objects.filter(tenant=tenant, name="/").count() == 1


def test_same_named_uploads_keep_every_file(tenant: User) -> None:
    folder = folder_create(tenant=tenant, name="inbox", parent_id=None, type="folder")

    def uploader(worker: int) -> Callable[[], None]:
        def work() -> None:
            data = f"report from worker {worker}\n".encode()
            files_upload(
                tenant=tenant,
                parent_id=folder.pk,
                uploads=[Upload(name="report.txt", file=ContentFile(data), size=len(data))],
            )

        return work

    run_together([uploader(i) for i in range(6)])
    files = list(File.objects.filter(parent=folder))
    assert len({f.name for f in files}) == 6
    contents = set()
    for file in files:
        with default_storage.open(file.location, "rb") as handle:
            contents.add(handle.read())
    assert contents == {f"report from worker {i}\n".encode() for i in range(6)}


def test_links_survive_concurrent_renames_and_moves(tenant: User) -> None:
    datasets = [dataset_create(tenant=tenant, name=f"kb{i}") for i in range(4)]
    dest = folder_create(tenant=tenant, name="dest", parent_id=None, type="folder")
    (file,) = files_upload(
        tenant=tenant,
        parent_id=None,
        uploads=[Upload(name="a.txt", file=ContentFile(b"alpha"), size=5)],
    )
    work: list[Callable[[], None]] = [
        (lambda ds=ds: files_link(tenant=tenant, file_ids=[file.pk], kb_ids=[ds.pk], mode="add"))
        for ds in datasets
    ]
    work.append(
        lambda: files_move(
            tenant=tenant, src_file_ids=[file.pk], dest_file_id=None, new_name="b.txt"
        )
    )
    work.append(
        lambda: files_move(
            tenant=tenant, src_file_ids=[file.pk], dest_file_id=dest.pk, new_name=None
        )
    )
    run_together(work)
    file.refresh_from_db()
    assert file.parent_id == dest.pk and file.name == "b.txt"
    assert FileLink.objects.filter(file=file).count() == 4
    assert Document.objects.filter(file_link__file=file, location=file.location).count() == 4
    for ds in datasets:
        ds.refresh_from_db()
        assert ds.document_count == 1
