"""Documents: upload, update, download and delete (contract §3.3–§3.7)."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F

from knowledge.models import Chunk, Dataset, Document
from knowledge.models import File as ManagedFile
from knowledge.parser_config import deep_merge, default_parser_config
from knowledge.parsing.filetypes import check_content, default_chunk_method, document_type
from knowledge.services import chunk_store
from knowledge.services.preview import preview_cache_delete
from ragsite.accounts.models import User
from ragsite.api.errors import ArgumentError, DataError, ServerError
from ragsite.ids import split_duplicates
from ragsite.text import clean_text

NAME_MAX_BYTES = 255
DOCUMENT_CHUNK_METHODS = (
    "naive",
    "manual",
    "qa",
    "table",
    "paper",
    "book",
    "laws",
    "presentation",
    "picture",
    "one",
    "knowledge_graph",
    "email",
    "tag",
)
_COUNTER = re.compile(r"^(?P<base>.*)\((?P<count>\d+)\)$", re.DOTALL)


@dataclass
class Upload:
    """One uploaded file: its name and a readable, seekable file object."""

    name: str
    file: File
    size: int

    def __post_init__(self) -> None:
        # A file name is text entering the database like any other (ragsite/text.py).
        self.name = clean_text(self.name)


def suffix_of(name: str) -> str:
    return os.path.splitext(name)[1].lstrip(".").lower()


def _dedupe_name(name: str, taken: set[str]) -> str:
    """`a.txt` → `a(1).txt` → `a(2).txt`, as RAGFlow names duplicate uploads."""
    stem, ext = os.path.splitext(name)
    candidate = name
    while candidate in taken:
        match = _COUNTER.match(stem)
        stem = f"{match['base']}({int(match['count']) + 1})" if match else f"{stem}(1)"
        candidate = stem + ext
    return candidate


def dataset_folder(dataset_id: str) -> str:
    """Where a dataset's originals are stored; deleted with the dataset."""
    return f"documents/{dataset_id}"


def _storage_key(document: Document) -> str:
    return f"{dataset_folder(document.dataset_id)}/{document.pk}"


def check_upload_names(names: Sequence[str]) -> None:
    """The form checks RAGFlow makes before reading any file (code 101)."""
    if not names:
        raise ArgumentError("No file part!")
    for name in names:
        if not name:
            raise ArgumentError("No file selected!")
        if len(name.encode("utf-8")) > NAME_MAX_BYTES:
            raise ArgumentError("File name must be 255 bytes or less.")


def check_upload_not_empty(uploads: Sequence[Upload]) -> None:
    """101 naming every 0-byte file. RAGFlow accepts them (and then cannot parse or download
    them); an empty file is almost always a mistake, so ragsite says so at once."""
    empty = []
    for upload in uploads:
        upload.file.seek(0)
        if upload.size == 0 or not upload.file.read(1):
            empty.append(f"{upload.name}: The file is empty (0 bytes).")
        upload.file.seek(0)
    if empty:
        raise ArgumentError("\n".join(empty))


def document_upload(*, tenant: User, dataset: Dataset, uploads: Sequence[Upload]) -> list[Document]:
    """Store files and create their documents; all or nothing.

    Every file is checked (not empty, supported type, content matching the extension, size)
    before any is stored, so a bad file in a batch loses nothing and leaves nothing half-done.
    RAGFlow stores the good files of a batch and reports the rest; ragsite refuses the batch.
    """
    check_upload_names([u.name for u in uploads])
    check_upload_not_empty(uploads)
    limit = settings.RAGSITE_MAX_UPLOAD_BYTES
    problems: list[str] = []
    for upload in uploads:
        if document_type(upload.name) is None:
            problems.append(f"{upload.name}: This type of file has not been supported yet!")
            continue
        if upload.size > limit:
            problems.append(
                f"{upload.name}: the file is {upload.size} bytes, larger than the limit of {limit} bytes."
            )
            continue
        upload.file.seek(0)
        mismatch = check_content(upload.name, upload.file.read(8192))
        if mismatch:
            problems.append(mismatch)  # the message names the file
    if problems:
        raise ServerError("\n".join(problems))

    created: list[Document] = []
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
            taken = set(locked.documents.values_list("name", flat=True))
            for upload in uploads:
                name = _dedupe_name(upload.name, taken)
                taken.add(name)
                document = Document(
                    dataset=locked,
                    tenant=tenant,
                    name=name,
                    type=document_type(name) or "doc",
                    suffix=suffix_of(name),
                    size=upload.size,
                    chunk_method=default_chunk_method(name, locked.chunk_method),
                    parser_config=locked.parser_config,
                )
                document.location = _storage_key(document)
                upload.file.seek(0)
                # Storage may pick another key if this one exists; keep what it chose.
                document.location = default_storage.save(document.location, upload.file)
                stored.append(document.location)
                document.save(force_insert=True)
                created.append(document)
            Dataset.objects.filter(pk=locked.pk).update(
                document_count=F("document_count") + len(created)
            )
    except Exception as exc:
        for key in stored:  # the rows rolled back; don't leave their files behind
            default_storage.delete(key)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise ServerError(
                "No space left on the file storage: nothing was uploaded. "
                "Free some space (or ask the administrator to) and upload again."
            ) from exc
        raise
    return created


def document_open(document: Document) -> File:
    """The stored original bytes, for download; 102 when there are none."""
    if document.size == 0 or not document.location or not default_storage.exists(document.location):
        raise DataError("This file is empty.")
    return default_storage.open(document.location, "rb")


def delete_stored_files(keys: Sequence[str], folders: Sequence[str] = ()) -> None:
    """Remove stored originals, then whole folders (a deleted dataset's, with anything left in
    them); called after the commit that deleted their rows.

    A key another document or a file-manager file still refers to (a file linked to several
    datasets shares its bytes with their documents) is kept.
    """
    for key in unreferenced_keys(keys):
        default_storage.delete(key)
    for folder in folders:
        _delete_folder(folder)


def unreferenced_keys(keys: Sequence[str]) -> list[str]:
    """The storage keys no document and no file refers to any more."""
    wanted = {key for key in keys if key}
    if not wanted:
        return []
    used = set(Document.objects.filter(location__in=wanted).values_list("location", flat=True))
    used |= set(ManagedFile.objects.filter(location__in=wanted).values_list("location", flat=True))
    return sorted(wanted - used)


def _delete_folder(folder: str) -> None:
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    for name in directories:
        _delete_folder(f"{folder}/{name}")
    try:
        os.rmdir(default_storage.path(folder))
    except NotImplementedError:
        pass  # an object store (S3): no folders, only keys, and those are gone
    except OSError:
        pass  # already gone, or something was written into it meanwhile: leave it


def document_delete(
    *, dataset: Dataset, ids: Sequence[str] | None, all_or_nothing: bool = False
) -> tuple[int, list[str], list[str]]:
    """Delete documents (ids None: all of them; empty: none) with their chunks and files.

    Returns (deleted count, ids not found, duplicate ids). With `all_or_nothing`, one id not in
    the dataset deletes nothing (102). Files go after the commit, so a rolled-back delete never
    loses a file.
    """
    unique, duplicates = split_duplicates(ids or [])
    with transaction.atomic():
        query = Document.objects.select_for_update().filter(dataset=dataset)
        if ids is not None:
            query = query.filter(pk__in=unique)
        documents = list(query)
        found = {d.pk for d in documents}
        missing = [doc_id for doc_id in unique if doc_id not in found]
        if missing and all_or_nothing:
            raise DataError(
                f"These documents do not belong to dataset {dataset.pk} or Document not found: "
                f"{', '.join(missing)}"
            )
        keys = [d.location for d in documents if d.location]
        for document in documents:
            chunk_store.delete_chunks(document)
            document.delete()
        Dataset.objects.filter(pk=dataset.pk).update(
            document_count=F("document_count") - len(documents)
        )
        transaction.on_commit(partial(delete_stored_files, keys))
        transaction.on_commit(partial(preview_cache_delete, dataset.pk, sorted(found)))
    return len(documents), missing, duplicates


# Counters a client may send back unchanged (ragflow-sdk echoes whole objects); changing them is
# refused.
LOCKED_FIELDS = ("chunk_count", "token_count", "progress")


@dataclass(frozen=True)
class DocumentChanges:
    """What one document update changes; a field left None stays as it is."""

    name: str | None = None
    chunk_method: str | None = None
    # Merged key by key into the current config; empty means none was sent.
    parser_config: dict[str, Any] | None = None
    # Replaces the document's metadata.
    meta_fields: dict[str, Any] | None = None
    enabled: bool | None = None
    # Values of LOCKED_FIELDS the client sent: accepted when they equal the stored ones.
    locked: dict[str, Any] = field(default_factory=dict)


def document_update(*, dataset: Dataset, document_id: str, changes: DocumentChanges) -> Document:
    """Apply RAGFlow's update rules in its order (contract §3.5), under a row lock."""
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().filter(pk=document_id, dataset=dataset).first()
        )
        if document is None:
            raise DataError("The dataset doesn't own the document.")

        for key in LOCKED_FIELDS:
            if key in changes.locked and changes.locked[key] != getattr(document, key):
                raise DataError(f"Can't change `{key}`.")

        if changes.meta_fields is not None:
            document.meta_fields = changes.meta_fields

        if changes.name is not None and changes.name != document.name:
            _rename(document, changes.name)

        if changes.parser_config:
            document.parser_config = deep_merge(document.parser_config, changes.parser_config)

        if changes.chunk_method is not None:
            _change_chunk_method(document, changes.chunk_method, bool(changes.parser_config))

        if changes.enabled is not None:
            document.enabled = changes.enabled
            chunk_store.set_available(Chunk.objects.filter(document=document), document.enabled)

        document.save()
        return document


def _rename(document: Document, name: str) -> None:
    if len(name.encode("utf-8")) > NAME_MAX_BYTES:
        raise ArgumentError("File name must be 255 bytes or less.")
    if not suffix_of(name) or suffix_of(name) != suffix_of(document.name):
        raise ArgumentError("The extension of file can't be changed")
    if (
        Document.objects.filter(dataset_id=document.dataset_id, name=name)
        .exclude(pk=document.pk)
        .exists()
    ):
        raise DataError("Duplicated document name in the same dataset.")
    document.name = name


def _change_chunk_method(document: Document, method: str, config_supplied: bool) -> None:
    if method not in DOCUMENT_CHUNK_METHODS:
        raise DataError(f"`chunk_method` {method} doesn't exist")
    if document.type == "visual" or suffix_of(document.name) in {"ppt", "pptx", "pages"}:
        raise DataError("Not supported yet!")
    if method == document.chunk_method:
        return
    document.chunk_method = method
    document.run = Document.Run.UNSTART
    document.progress = 0.0
    document.progress_msg = ""
    if not config_supplied:
        document.parser_config = deep_merge(document.parser_config, default_parser_config(method))
    if document.token_count or document.chunk_count:
        chunk_store.delete_chunks(document)
