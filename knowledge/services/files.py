"""The file manager: folders, uploads, moves, deletes and links to datasets (v0.27 §3.9).

Every change to a user's tree runs under a lock on the user's root folder, so two requests
never interleave a move with a delete or pick the same name twice. A file's bytes are stored
once (`files/<user>/<file id>`); a link to a dataset is a Document with the same storage key,
and bytes go only when nothing refers to them (`delete_stored_files`).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import File as DjangoFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F

from knowledge.models import Dataset, Document, File, FileLink
from knowledge.models_files import ATTACHMENT
from knowledge.parsing.filetypes import default_chunk_method, document_type
from knowledge.selectors import (
    file_ancestors,
    file_descendants,
    file_get_or_raise,
    file_tree,
    folder_get_or_raise,
)
from knowledge.services.documents import (
    NAME_MAX_BYTES,
    Upload,
    _dedupe_name,
    check_upload_names,
    check_upload_not_empty,
    delete_stored_files,
    document_delete,
    suffix_of,
)
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError, ServerError
from ragsite.text import clean_text

ROOT_NAME = "/"

# RAGFlow's `filename_type` (api/utils/file_utils.py): the file manager's type of a name.
_DOC = frozenset(
    [
        "msg",
        "eml",
        "doc",
        "docx",
        "ppt",
        "pptx",
        "yml",
        "xml",
        "htm",
        "json",
        "jsonl",
        "ldjson",
        "csv",
        "txt",
        "ini",
        "xls",
        "xlsx",
        "wps",
        "rtf",
        "hlp",
        "pages",
        "numbers",
        "key",
        "md",
        "mdx",
        "py",
        "js",
        "java",
        "c",
        "cpp",
        "h",
        "php",
        "go",
        "ts",
        "sh",
        "cs",
        "kt",
        "html",
        "sql",
        "epub",
    ]
)
_AURAL = frozenset(
    ["wav", "flac", "ape", "alac", "wavpack", "wv", "mp3", "aac", "ogg", "vorbis", "opus"]
)
_VISUAL = frozenset(
    [
        "jpg",
        "jpeg",
        "png",
        "tif",
        "gif",
        "bmp",
        "pcx",
        "tga",
        "exif",
        "fpx",
        "svg",
        "psd",
        "cdr",
        "pcd",
        "dxf",
        "ufo",
        "eps",
        "ai",
        "raw",
        "wmf",
        "webp",
        "avif",
        "apng",
        "icon",
        "ico",
        "mpg",
        "mpeg",
        "avi",
        "rm",
        "rmvb",
        "mov",
        "wmv",
        "asf",
        "dat",
        "asx",
        "wvx",
        "mpe",
        "mpa",
        "mp4",
        "mkv",
    ]
)


def file_type_of(name: str) -> str:
    suffix = suffix_of(name)
    if suffix == "pdf":
        return File.Type.PDF
    if suffix in _DOC:
        return File.Type.DOC
    if suffix in _AURAL:
        return File.Type.AURAL
    if suffix in _VISUAL:
        return File.Type.VISUAL
    return File.Type.OTHER


def storage_key(file: File) -> str:
    return f"files/{file.tenant_id}/{file.pk}"


def file_root(tenant: User) -> File:
    """The user's root folder, made on first use (its own parent)."""
    root = File.objects.filter(tenant=tenant, parent_id=F("id")).first()
    if root is not None:
        return root
    root = File(tenant=tenant, name=ROOT_NAME, type=File.Type.FOLDER)
    root.parent_id = root.pk
    try:
        with transaction.atomic():
            root.save(force_insert=True)
    except IntegrityError:  # made meanwhile by another request
        return File.objects.get(tenant=tenant, parent_id=F("id"))
    return root


def _lock_tree(tenant: User) -> File:
    """Lock the user's tree (through its root row) for the rest of the transaction."""
    root = file_root(tenant)
    return File.objects.select_for_update().get(pk=root.pk)


def _taken_names(folder: File) -> set[str]:
    return set(
        File.objects.filter(parent=folder).exclude(pk=folder.pk).values_list("name", flat=True)
    )


# --- upload and create ---------------------------------------------------------------------


def files_upload(*, tenant: User, parent_id: str | None, uploads: Sequence[Upload]) -> list[File]:
    """Store uploads in a folder (the root by default); all or nothing.

    A name like `a/b/c.txt` puts the file in folders `a/b` below the parent, made as needed
    (RAGFlow's folder upload). Empty files and files over RAGSITE_MAX_UPLOAD_BYTES are refused
    (101) before anything is stored; a name taken in its folder gets a `(1)` suffix.
    """
    check_upload_names([u.name for u in uploads])
    check_upload_not_empty(uploads)
    limit = settings.RAGSITE_MAX_UPLOAD_BYTES
    too_big = [
        f"{u.name}: the file is {u.size} bytes, larger than the limit of {limit} bytes."
        for u in uploads
        if u.size > limit
    ]
    if too_big:
        raise ArgumentError("\n".join(too_big))
    paths = []
    for upload in uploads:
        parts = [clean_text(p).strip() for p in upload.name.split("/")]
        parts = [p for p in parts if p and p not in (".", "..")]
        if not parts:
            raise ArgumentError("No file selected!")
        paths.append(parts)

    created: list[File] = []
    stored: list[str] = []
    try:
        with transaction.atomic():
            root = _lock_tree(tenant)
            parent = (
                folder_get_or_raise(tenant, parent_id, missing="Can't find this folder!")
                if parent_id
                else root
            )
            for upload, parts in zip(uploads, paths, strict=True):
                folder = _folder_path(tenant, parent, parts[:-1])
                name = _dedupe_name(parts[-1], _taken_names(folder))
                file = File(
                    tenant=tenant,
                    parent=folder,
                    name=name,
                    type=file_type_of(name),
                    size=upload.size,
                )
                upload.file.seek(0)
                file.location = default_storage.save(storage_key(file), upload.file)
                stored.append(file.location)
                file.save(force_insert=True)
                created.append(file)
    except Exception as exc:
        for key in stored:  # the rows rolled back; don't leave their bytes behind
            default_storage.delete(key)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise ServerError(
                "No space left on the file storage: nothing was uploaded. "
                "Free some space (or ask the administrator to) and upload again."
            ) from exc
        raise
    return created


def _folder_path(tenant: User, parent: File, names: Sequence[str]) -> File:
    """The folder `names` below `parent`, made where missing."""
    folder = parent
    for name in names:
        found = File.objects.filter(parent=folder, name=name, type=File.Type.FOLDER).first()
        if found is None or found.pk == folder.pk:
            found = File.objects.create(
                tenant=tenant, parent=folder, name=name, type=File.Type.FOLDER
            )
        folder = found
    return folder


def folder_create(*, tenant: User, name: str, parent_id: str | None, type: str | None) -> File:
    """A folder (`type: "folder"`) or an empty virtual file, as RAGFlow's create."""
    name = clean_text(name).strip()
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        raise ArgumentError("File name must be 255 bytes or less.")
    if "/" in name:
        raise ArgumentError("A name can't contain '/'.")
    with transaction.atomic():
        root = _lock_tree(tenant)
        parent = (
            folder_get_or_raise(tenant, parent_id, missing="Parent Folder Doesn't Exist!")
            if parent_id
            else root
        )
        if name in _taken_names(parent):
            raise DataError("Duplicated folder name in the same folder.")
        kind = File.Type.FOLDER if (type or "").lower() == File.Type.FOLDER else File.Type.VIRTUAL
        return File.objects.create(tenant=tenant, parent=parent, name=name, type=kind)


# --- delete --------------------------------------------------------------------------------


@dataclass
class DeleteOutcome:
    success_count: int = 0
    errors: list[str] = field(default_factory=list)


def files_delete(*, tenant: User, ids: Sequence[object]) -> DeleteOutcome:
    """Delete files and folders (folders with everything below them), with the dataset
    documents linked to them, as RAGFlow does. Unknown and foreign ids are reported in
    `errors` and the rest still go; bytes go after the commit, when nothing else uses them."""
    outcome = DeleteOutcome()
    keys: list[str] = []
    with transaction.atomic():
        _lock_tree(tenant)
        tree = file_tree(tenant)
        for file_id in ids:
            file = File.objects.filter(pk=file_id).first() if isinstance(file_id, str) else None
            if file is None:
                outcome.errors.append(f"File or Folder not found: {file_id}")
                continue
            if file.tenant_id != tenant.pk:
                outcome.errors.append(f"No authorization for file {file_id}")
                continue
            if file.is_root:
                outcome.errors.append(f"The root folder can't be deleted: {file_id}")
                continue
            doomed = [file, *file_descendants(tenant, file, tree)] if file.is_folder else [file]
            # Ids named earlier in this request may have taken some of these already.
            alive = set(
                File.objects.filter(pk__in=[f.pk for f in doomed]).values_list("pk", flat=True)
            )
            doomed = [f for f in doomed if f.pk in alive]
            _unlink_documents([f.pk for f in doomed])
            keys += [f.location for f in doomed if f.location]
            # Children first: the parent foreign key cascades, but the count is RAGFlow's.
            File.objects.filter(pk__in=[f.pk for f in doomed]).delete()
            outcome.success_count += len(doomed)
        transaction.on_commit(partial(delete_stored_files, keys))
    return outcome


def _unlink_documents(file_ids: Sequence[str]) -> None:
    """Delete the dataset documents linked to these files (chunks and counters with them)."""
    by_dataset: dict[str, list[str]] = {}
    for dataset_id, document_id in FileLink.objects.filter(file_id__in=file_ids).values_list(
        "document__dataset_id", "document_id"
    ):
        by_dataset.setdefault(dataset_id, []).append(document_id)
    for dataset in Dataset.objects.filter(pk__in=by_dataset):
        document_delete(dataset=dataset, ids=by_dataset[dataset.pk])


# --- move and rename -------------------------------------------------------------------------


def files_move(
    *,
    tenant: User,
    src_file_ids: Sequence[object],
    dest_file_id: str | None,
    new_name: str | None,
) -> None:
    """Move files and folders into a folder and/or rename one (Linux `mv`), RAGFlow's checks in
    RAGFlow's order. A folder moved next to a folder of the same name is merged into it."""
    with transaction.atomic():
        _lock_tree(tenant)
        wanted = [i for i in src_file_ids if isinstance(i, str)]
        found = {f.pk: f for f in File.objects.filter(pk__in=wanted)}
        if not found:
            raise DataError("Source files not found!")
        files: list[File] = []
        for file_id in src_file_ids:
            file = found.get(file_id) if isinstance(file_id, str) else None
            if file is None:
                raise DataError("File or folder not found!")
            if file.tenant_id != tenant.pk:
                raise DataError("no authorization")
            if file.is_root:
                raise DataError("The root folder can't be moved or renamed.")
            if file not in files:
                files.append(file)
        dest = (
            folder_get_or_raise(tenant, dest_file_id, missing="Parent folder not found!")
            if dest_file_id
            else None
        )
        if new_name is not None:
            new_name = clean_text(new_name).strip()
            if len(new_name.encode("utf-8")) > NAME_MAX_BYTES:
                raise ArgumentError("File name must be 255 bytes or less.")
            if "/" in new_name:
                raise ArgumentError("A name can't contain '/'.")
            file = files[0]
            if not file.is_folder and suffix_of(new_name) != suffix_of(file.name):
                raise DataError("The extension of file can't be changed")
            target = dest.pk if dest else file.parent_id
            if File.objects.filter(parent_id=target, name=new_name).exclude(pk=file.pk).exists():
                raise DataError("Duplicated file name in the same folder.")
        if dest is not None:
            for file in files:
                if file.is_folder and file.pk == dest.pk:
                    raise DataError("Cannot move a folder to itself.")
            ancestors = {f.pk for f in file_ancestors(dest)}
            for file in files:
                if file.is_folder and file.pk in ancestors:
                    raise DataError("Cannot move a folder into its own subfolder.")
            for file in files:
                _move(tenant, file, dest, new_name)
        else:
            _rename(files[0], new_name or files[0].name)


def _move(tenant: User, file: File, dest: File, new_name: str | None) -> None:
    name = new_name or file.name
    if file.is_folder:
        same = File.objects.filter(parent=dest, name=name, type=File.Type.FOLDER).first()
        if same is not None and same.pk == file.pk:
            raise DataError(
                "The folder is already in the target location. There is no need to move it."
            )
        if same is not None:  # merge into the folder already there, as RAGFlow does
            for child in list(File.objects.filter(parent=file).exclude(pk=file.pk)):
                _move(tenant, child, same, None)
            file.delete()
            return
    file.parent = dest
    file.name = name
    file.save(update_fields=["parent", "name", "updated_at"])
    if new_name and not file.is_folder:
        _rename_linked_documents(file, new_name)


def _rename(file: File, new_name: str) -> None:
    file.name = new_name
    file.save(update_fields=["name", "updated_at"])
    if not file.is_folder:
        _rename_linked_documents(file, new_name)


def _rename_linked_documents(file: File, name: str) -> None:
    """Linked documents take the new name (RAGFlow), with a `(1)` suffix where their dataset
    already has a document of that name."""
    for link in FileLink.objects.filter(file=file).select_related("document"):
        document = link.document
        taken = set(
            Document.objects.filter(dataset_id=document.dataset_id)
            .exclude(pk=document.pk)
            .values_list("name", flat=True)
        )
        document.name = _dedupe_name(name, taken)
        document.save(update_fields=["name", "updated_at"])


# --- link to datasets ------------------------------------------------------------------------


def files_link(
    *, tenant: User, file_ids: Sequence[object], kb_ids: Sequence[object], mode: str = "replace"
) -> list[FileLink]:
    """Link files (folders: every file below them) to datasets as unparsed documents that
    share the file's stored bytes. `replace` first removes the files' existing links (and their
    documents); `add` keeps them and skips datasets a file is already linked to. Every id is
    checked before anything changes."""
    with transaction.atomic():
        _lock_tree(tenant)
        files: list[File] = []
        for file_id in file_ids:
            files.append(file_get_or_raise(tenant, file_id, missing="File not found!"))
        datasets: list[Dataset] = []
        for kb_id in kb_ids:
            dataset = Dataset.objects.filter(pk=kb_id).first() if isinstance(kb_id, str) else None
            if dataset is None:
                raise DataError("Can't find this dataset!")
            if dataset.tenant_id != tenant.pk:
                raise DataError("no authorization")
            if dataset not in datasets:
                datasets.append(dataset)
        tree = file_tree(tenant)
        expanded: list[File] = []
        for file in files:
            for inner in file_descendants(tenant, file, tree) if file.is_folder else [file]:
                if not inner.is_folder and inner not in expanded:
                    expanded.append(inner)

        links: list[FileLink] = []
        for file in expanded:
            linked: set[str] = set()
            if mode == "replace":
                _unlink_documents([file.pk])
            else:
                linked = set(
                    FileLink.objects.filter(file=file).values_list(
                        "document__dataset_id", flat=True
                    )
                )
            for dataset in datasets:
                if dataset.pk in linked:
                    continue
                links.append(_link(tenant, file, dataset))
        return links


def _link(tenant: User, file: File, dataset: Dataset) -> FileLink:
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    name = _dedupe_name(file.name, set(locked.documents.values_list("name", flat=True)))
    document = Document.objects.create(
        dataset=locked,
        tenant=tenant,
        name=name,
        type=document_type(name) or file.type,
        suffix=suffix_of(name),
        size=file.size,
        location=file.location,  # the same stored bytes: no copy
        chunk_method=default_chunk_method(name, locked.chunk_method),
        parser_config=locked.parser_config,
    )
    Dataset.objects.filter(pk=locked.pk).update(document_count=F("document_count") + 1)
    return FileLink.objects.create(file=file, document=document)


# --- download ---------------------------------------------------------------------------------


def file_open(file: File) -> DjangoFile:
    """The stored bytes; 102 `This file is empty.` for folders, virtual and empty files."""
    if file.is_folder or not file.location or not default_storage.exists(file.location):
        raise DataError("This file is empty.")
    if file.size == 0:
        raise DataError("This file is empty.")
    return default_storage.open(file.location, "rb")


def file_links_set(*, tenant: User, file_id: str, kb_ids: Sequence[str]) -> None:
    """Make a file linked to exactly these datasets (the Files page's checkboxes): links to
    datasets no longer named go with their documents, links that stay keep their parsed
    chunks, and new ones are added."""
    with transaction.atomic():
        _lock_tree(tenant)
        file = file_get_or_raise(tenant, file_id, missing="File not found!")
        current = dict(
            FileLink.objects.filter(file=file).values_list("document__dataset_id", "document_id")
        )
        gone = [document for dataset, document in current.items() if dataset not in kb_ids]
        if gone:
            for dataset in Dataset.objects.filter(documents__in=gone).distinct():
                document_delete(
                    dataset=dataset,
                    ids=list(
                        Document.objects.filter(pk__in=gone, dataset=dataset).values_list(
                            "pk", flat=True
                        )
                    ),
                )
    new = [kb_id for kb_id in kb_ids if kb_id not in current]
    if new:
        files_link(tenant=tenant, file_ids=[file.pk], kb_ids=new, mode="add")


# --- runtime attachments (POST /documents/upload) ----------------------------------------------


def attachments_upload(*, tenant: User, uploads: Sequence[Upload]) -> list[File]:
    """Store chat/agent attachments (RAGFlow v0.27's `upload_info`): bytes stored once, owned
    by the user, outside the folder tree; all or nothing, with the upload checks of files."""
    check_upload_names([u.name for u in uploads])
    check_upload_not_empty(uploads)
    limit = settings.RAGSITE_MAX_UPLOAD_BYTES
    too_big = [
        f"{u.name}: the file is {u.size} bytes, larger than the limit of {limit} bytes."
        for u in uploads
        if u.size > limit
    ]
    if too_big:
        raise ArgumentError("\n".join(too_big))
    created: list[File] = []
    stored: list[str] = []
    try:
        with transaction.atomic():
            root = file_root(tenant)
            for upload in uploads:
                name = clean_text(upload.name).rsplit("/", 1)[-1].strip() or "file"
                file = File(
                    tenant=tenant,
                    parent=root,
                    name=name,
                    type=file_type_of(name),
                    size=upload.size,
                    source_type=ATTACHMENT,
                )
                upload.file.seek(0)
                file.location = default_storage.save(storage_key(file), upload.file)
                stored.append(file.location)
                file.save(force_insert=True)
                created.append(file)
    except Exception as exc:
        for key in stored:
            default_storage.delete(key)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise ServerError(
                "No space left on the file storage: nothing was uploaded. "
                "Free some space (or ask the administrator to) and upload again."
            ) from exc
        raise
    return created


def check_url_is_safe(url: str) -> None:
    """RAGFlow's SSRF guard (`assert_url_is_safe`), with its messages (101): http(s) only, a
    host, and every address it resolves to public."""
    parsed = urlsplit(url.strip())
    scheme = (parsed.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise ArgumentError(
            f"Disallowed URL scheme: {scheme!r}. Only ['http', 'https'] are allowed."
        )
    hostname = parsed.hostname
    if not hostname:
        raise ArgumentError("URL is missing a host.")
    try:
        infos = socket.getaddrinfo(hostname, parsed.port or None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as exc:
        raise ArgumentError(f"Could not resolve hostname {hostname!r}: {exc}") from exc
    if not infos:
        raise ArgumentError(f"Hostname {hostname!r} resolved to no addresses.")
    for info in infos:
        raw_ip = str(info[4][0])
        if not ipaddress.ip_address(raw_ip.split("%")[0]).is_global:
            raise ArgumentError(
                f"URL resolves to a non-public address ({raw_ip}), which is not allowed."
            )
