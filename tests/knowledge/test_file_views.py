"""The Files page: folders, breadcrumbs, upload, rename, move, delete and links, over HTMX and
without it; another user's files and folders are not found."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from knowledge.models import Document, File
from knowledge.services.datasets import dataset_create
from knowledge.services.documents import Upload
from knowledge.services.files import file_root, files_upload, folder_create
from ragsite.accounts.models import User

HTMX = {"HX-Request": "true"}
TEXT = b"The walrus colony on Kolguev island was counted at 4312 animals in 2019.\n" * 20


@pytest.fixture
def alice(client: Client, tenant: User) -> Client:
    client.force_login(tenant)
    return client


def add_file(user: User, name: str, data: bytes, parent: File | None = None) -> File:
    (file,) = files_upload(
        tenant=user,
        parent_id=parent.pk if parent else None,
        uploads=[Upload(name=name, file=ContentFile(data), size=len(data))],
    )
    return file


def test_files_page_lists_root_and_is_in_the_nav(alice: Client, tenant: User) -> None:
    add_file(tenant, "facts.txt", TEXT)
    folder_create(tenant=tenant, name="Reports", parent_id=None, type="folder")
    page = alice.get(reverse("knowledge:files")).content.decode()
    assert 'href="/files/" aria-current="page">Files</a>' in page
    assert "facts.txt" in page and "Reports" in page
    assert page.index("Reports") < page.index("facts.txt")  # folders first


def test_upload_create_rename_move_delete_over_htmx(alice: Client, tenant: User) -> None:
    root = file_root(tenant)
    response = alice.post(
        reverse("knowledge:upload_files", args=[root.pk]),
        {"file": [SimpleUploadedFile("a.txt", b"alpha"), SimpleUploadedFile("b.txt", b"beta")]},
        headers=HTMX,
    )
    assert response.status_code == 200 and "Uploaded 2 file(s)." in response.content.decode()
    assert 'id="file-browser"' in response.content.decode()
    alice.post(reverse("knowledge:create_folder", args=[root.pk]), {"name": "Dir"}, headers=HTMX)
    folder = File.objects.get(name="Dir")
    a = File.objects.get(name="a.txt")
    html = alice.post(
        reverse("knowledge:rename_file", args=[a.pk]), {"name": "a2.txt"}, headers=HTMX
    ).content.decode()
    assert "Renamed to" in html and File.objects.get(pk=a.pk).name == "a2.txt"
    html = alice.post(
        reverse("knowledge:rename_file", args=[a.pk]), {"name": "a2.pdf"}, headers=HTMX
    ).content.decode()
    assert "The extension of file can&#x27;t be changed" in html
    alice.post(reverse("knowledge:move_file", args=[a.pk]), {"dest": folder.pk}, headers=HTMX)
    assert File.objects.get(pk=a.pk).parent_id == folder.pk
    html = alice.post(
        reverse("knowledge:move_file", args=[folder.pk]), {"dest": folder.pk}, headers=HTMX
    ).content.decode()
    assert "Cannot move a folder to itself." in html
    inside = alice.get(reverse("knowledge:file_folder", args=[folder.pk])).content.decode()
    assert "a2.txt" in inside and "All files" in inside  # breadcrumb back to the root
    alice.post(reverse("knowledge:delete_file", args=[folder.pk]), headers=HTMX)
    assert not File.objects.filter(pk__in=[folder.pk, a.pk]).exists()


def test_without_javascript_actions_redirect_back(alice: Client, tenant: User) -> None:
    folder = folder_create(tenant=tenant, name="Dir", parent_id=None, type="folder")
    response = alice.post(
        reverse("knowledge:upload_files", args=[folder.pk]),
        {"file": SimpleUploadedFile("x.txt", b"x")},
    )
    assert response.status_code == 302 and response["Location"] == f"/files/folders/{folder.pk}/"
    response = alice.post(reverse("knowledge:create_folder", args=[folder.pk]), {"name": ""})
    assert (
        response.status_code == 400 and "Give the new folder a name." in response.content.decode()
    )


def test_link_checkboxes_add_and_remove_links(alice: Client, tenant: User) -> None:
    kb1 = dataset_create(tenant=tenant, name="kb one")
    kb2 = dataset_create(tenant=tenant, name="kb two")
    file = add_file(tenant, "facts.txt", TEXT)
    url = reverse("knowledge:link_file", args=[file.pk])
    html = alice.post(url, {"kb": [kb1.pk, kb2.pk]}, headers=HTMX).content.decode()
    assert "kb one" in html and Document.objects.filter(file_link__file=file).count() == 2
    kept = Document.objects.get(dataset=kb1)
    alice.post(url, {"kb": [kb1.pk]}, headers=HTMX)
    assert list(Document.objects.filter(file_link__file=file)) == [kept]  # kept, not remade
    download = alice.get(reverse("knowledge:download_file", args=[file.pk]))
    assert b"".join(download.streaming_content) == TEXT


def test_another_users_files_are_not_found(alice: Client, other_tenant: User) -> None:
    theirs = add_file(other_tenant, "secret.txt", b"secret")
    their_folder = folder_create(tenant=other_tenant, name="Hidden", parent_id=None, type="folder")
    assert alice.get(reverse("knowledge:file_folder", args=[their_folder.pk])).status_code == 404
    assert alice.get(reverse("knowledge:download_file", args=[theirs.pk])).status_code == 404
    for name, data in (
        ("rename_file", {"name": "mine.txt"}),
        ("move_file", {"dest": their_folder.pk}),
        ("link_file", {"kb": []}),
        ("delete_file", {}),
    ):
        assert alice.post(reverse(f"knowledge:{name}", args=[theirs.pk]), data).status_code == 404
    for name in ("upload_files", "create_folder"):
        response = alice.post(reverse(f"knowledge:{name}", args=[their_folder.pk]), {"name": "x"})
        assert response.status_code == 404
    assert File.objects.get(pk=theirs.pk).name == "secret.txt"
    assert "secret.txt" not in alice.get(reverse("knowledge:files")).content.decode()


def test_files_page_needs_a_login(client: Client) -> None:
    response = client.get(reverse("knowledge:files"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
