"""/api/v1/files (RAGFlow v0.27 §3.9) and the old /api/v1/file/* paths (§1.2 #21–31, R8).

Thin views over `knowledge.services.files`. The old paths keep v0.22's request keys and answer
shapes (`file_ids`, `{"root_folder": …}`, the link rows of `/file/convert`, `data: true`), and
for v0.22 clients v0.22's codes (400/404/409) on the errors v0.22 had.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.http.multipartparser import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.api.documents import _RawNames
from knowledge.api.schemas.files import (
    FILE_ORDER_COLUMNS,
    FilesDeleteIn,
    FilesLinkIn,
    FilesListIn,
    FilesMoveIn,
    FolderCreateIn,
)
from knowledge.api.serializers import file_link_out, file_out
from knowledge.models import File
from knowledge.selectors import (
    file_ancestors,
    file_get_or_raise,
    file_links_info,
    file_tree,
    files_listed,
    folder_get_or_raise,
    folder_summary,
)
from knowledge.services.documents import Upload, check_upload_names
from knowledge.services.files import (
    attachments_upload,
    check_url_is_safe,
    file_open,
    file_root,
    files_delete,
    files_link,
    files_move,
    files_upload,
    folder_create,
)
from ragsite.api.auth import ApiRequest
from ragsite.api.codes import RetCode
from ragsite.api.envelope import ok
from ragsite.api.errors import ArgumentError, DataError, ServiceError
from ragsite.api.generation import is_v027
from ragsite.api.parsing import (
    json_body,
    page_bounds,
    query_dict,
    strict_json_object,
    validate,
)

# v0.22.1's `/file/*` answered these errors with HTTP-like codes in the body.
_V022_CODES = {
    "No file part!": RetCode.BAD_REQUEST,
    "No file selected!": RetCode.BAD_REQUEST,
    "Parent Folder Doesn't Exist!": RetCode.BAD_REQUEST,
    "The extension of file can't be changed": RetCode.BAD_REQUEST,
    "Can't find this folder!": RetCode.NOT_FOUND,
    "Folder not found!": RetCode.NOT_FOUND,
    "File not found!": RetCode.NOT_FOUND,
    "File or folder not found!": RetCode.NOT_FOUND,
    "Parent folder not found!": RetCode.NOT_FOUND,
    "document not found": RetCode.NOT_FOUND,
    "Can't find this dataset!": RetCode.NOT_FOUND,
    "Duplicated folder name in the same folder.": RetCode.CONFLICT,
    "Duplicated file name in the same folder.": RetCode.CONFLICT,
}


@contextmanager
def _old_path_codes(request: ApiRequest) -> Iterator[None]:
    try:
        yield
    except ServiceError as exc:
        if not is_v027(request) and exc.message in _V022_CODES:
            exc.code = _V022_CODES[exc.message]
        raise


def _required(body: dict[str, Any], *keys: str) -> None:
    missing = [key for key in keys if key not in body]
    if missing:
        raise ArgumentError(f"required argument are missing: {','.join(missing)}; ")


# --- shared implementations ---------------------------------------------------------------------


class _PathKeepingParser(MultiPartParser):
    """Keeps the folders of a file part's name (`a/b/c.txt`: RAGFlow's folder upload); the
    service drops empty, `.` and `..` parts, and storage keys never come from names."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        file_name = html.unescape(file_name).replace("\\", "/")
        parts = ["".join(c for c in part if c.isprintable()) for part in file_name.split("/")]
        kept = "/".join(p for p in parts if p not in {"", ".", ".."})
        return kept or None


def _upload(request: ApiRequest) -> list[File]:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.RAGSITE_MAX_UPLOAD_BYTES
    if length > limit:
        # Refuse before Django spools the body to disk.
        raise ArgumentError(
            f"The upload is {length} bytes, larger than the limit of {limit} bytes."
        )
    raw = request._request
    names = _RawNames(raw)
    raw.upload_handlers.insert(0, names)

    def parse(meta: Any, post_data: Any) -> Any:
        return _PathKeepingParser(meta, post_data, raw.upload_handlers, raw.encoding).parse()

    raw.parse_file_upload = parse  # type: ignore[method-assign,assignment]
    parts = raw.FILES.getlist("file")
    if "file" not in raw.FILES:
        raise ArgumentError("No file part!")
    paths = names.seen if len(names.seen) == len(parts) else [f.name or "" for f in parts]
    check_upload_names(paths)
    uploads = [
        Upload(name=path, file=part, size=part.size or 0)
        for path, part in zip(paths, parts, strict=True)
    ]
    parent_id = raw.POST.get("parent_id") or None
    return files_upload(tenant=request.user, parent_id=parent_id, uploads=uploads)


def _create(request: ApiRequest) -> File:
    body = validate(FolderCreateIn, strict_json_object(request))
    return folder_create(
        tenant=request.user, name=body.name, parent_id=body.parent_id, type=body.type
    )


def _create_or_upload(request: ApiRequest) -> Response:
    if "multipart/form-data" in (request.META.get("CONTENT_TYPE") or ""):
        return Response(ok([file_out(f) for f in _upload(request)]))
    return Response(ok(file_out(_create(request))))


def _listing(request: ApiRequest, *, strict: bool) -> dict[str, Any]:
    query = query_dict(request)
    params = validate(FilesListIn, query if strict else FilesListIn.lenient(query), strict=False)
    if params.orderby not in FILE_ORDER_COLUMNS:
        raise ArgumentError(
            f"`orderby` must be one of {', '.join(sorted(FILE_ORDER_COLUMNS))}: {params.orderby}"
        )
    user = request.user
    root = file_root(user)
    folder = (
        folder_get_or_raise(user, params.parent_id, missing="Folder not found!")
        if params.parent_id
        else root
    )
    listed = files_listed(
        user,
        folder,
        keywords=params.keywords,
        orderby=FILE_ORDER_COLUMNS[params.orderby],
        desc=params.desc,
    )
    total = listed.count()
    start, end = page_bounds(params.page, params.page_size)
    page = list(listed[start:end])
    links = file_links_info([f.pk for f in page if not f.is_folder])
    tree = file_tree(user) if any(f.is_folder for f in page) else {}
    entries = []
    for file in page:
        entry = file_out(file)
        if file.is_folder:
            entry["size"], entry["has_child_folder"] = folder_summary(user, file, tree)
            entry["kbs_info"] = []
        else:
            entry["kbs_info"] = links[file.pk]
        entries.append(entry)
    parent = folder if folder.is_root else File.objects.get(pk=folder.parent_id)
    return {"total": total, "files": entries, "parent_folder": file_out(parent)}


def _delete(request: ApiRequest, ids: list[str]) -> int:
    outcome = files_delete(tenant=request.user, ids=ids)
    if outcome.errors:
        message = (
            f"Partially deleted {outcome.success_count} files with {len(outcome.errors)} errors"
            if outcome.success_count
            else f"Deleted files failed with {len(outcome.errors)} errors"
        )
        raise DataError(
            message, data={"success_count": outcome.success_count, "errors": outcome.errors}
        )
    return outcome.success_count


def _move(request: ApiRequest, body: FilesMoveIn) -> None:
    files_move(
        tenant=request.user,
        src_file_ids=body.src_file_ids,
        dest_file_id=body.dest_file_id,
        new_name=body.new_name,
    )


def _link(request: ApiRequest) -> list[Any]:
    mode = (request.GET.get("mode") or "replace").lower()
    if mode not in {"replace", "add"}:
        raise ArgumentError("mode must be 'add' or 'replace'")
    body = json_body(request)
    _required(body, "file_ids", "kb_ids")
    params = validate(FilesLinkIn, body)
    return files_link(
        tenant=request.user, file_ids=params.file_ids, kb_ids=params.kb_ids, mode=mode
    )


def _download(request: ApiRequest, file_id: str) -> FileResponse:
    file = file_get_or_raise(request.user, file_id, missing="document not found")
    handle = file_open(file)
    return FileResponse(handle, as_attachment=True, filename=file.name)


def _parent(request: ApiRequest, file_id: Any) -> dict[str, Any]:
    file = file_get_or_raise(request.user, file_id, missing="Folder not found!")
    parent = file if file.is_root else File.objects.get(pk=file.parent_id)
    return {"parent_folder": file_out(parent)}


def _ancestors(request: ApiRequest, file_id: Any) -> dict[str, Any]:
    file = file_get_or_raise(request.user, file_id, missing="Folder not found!")
    return {"parent_folders": [file_out(f) for f in file_ancestors(file)]}


# --- /api/v1/files ------------------------------------------------------------------------------


class FilesApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        """Multipart: upload `file` parts into `parent_id`; JSON: create a folder or file."""
        return _create_or_upload(request)

    def get(self, request: ApiRequest) -> Response:
        return Response(ok(_listing(request, strict=True)))

    def delete(self, request: ApiRequest) -> Response:
        body = validate(FilesDeleteIn, strict_json_object(request))
        return Response(ok({"success_count": _delete(request, body.ids)}))


class FilesMoveApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        _move(request, validate(FilesMoveIn, strict_json_object(request)))
        return Response(ok(True))


class FilesLinkApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        """Linked at once (RAGFlow links in the background): the links exist on reply."""
        _link(request)
        return Response(ok(True))


class FileApi(APIView):
    def get(self, request: ApiRequest, file_id: str) -> FileResponse:
        return _download(request, file_id)


class FileParentApi(APIView):
    def get(self, request: ApiRequest, file_id: str) -> Response:
        return Response(ok(_parent(request, file_id)))


class FileAncestorsApi(APIView):
    def get(self, request: ApiRequest, file_id: str) -> Response:
        return Response(ok(_ancestors(request, file_id)))


# --- the old /api/v1/file/* paths ---------------------------------------------------------------


class OldFileUploadApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        with _old_path_codes(request):
            return _create_or_upload(request)


class OldFileCreateApi(OldFileUploadApi):
    pass


class OldFileListApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        with _old_path_codes(request):
            return Response(ok(_listing(request, strict=False)))


class OldRootFolderApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        """v0.22's `{"root_folder": …}`, and v0.27's root listing with it."""
        with _old_path_codes(request):
            listing = _listing(request, strict=False)
        return Response(ok({**listing, "root_folder": file_out(file_root(request.user))}))


def _file_id_query(request: ApiRequest) -> str:
    file_id = request.GET.get("file_id")
    if not file_id:
        raise DataError("`file_id` query parameter is required")
    return file_id


class OldParentFolderApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        with _old_path_codes(request):
            return Response(ok(_parent(request, _file_id_query(request))))


class OldAllParentFolderApi(APIView):
    def get(self, request: ApiRequest) -> Response:
        with _old_path_codes(request):
            return Response(ok(_ancestors(request, _file_id_query(request))))


class OldFileRmApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        """`file_ids` (v0.22) or `ids` (v0.27); `data: true` as v0.22 answered."""
        body = json_body(request)
        key = "file_ids" if "file_ids" in body else "ids"
        params = validate(FilesDeleteIn, {"ids": body.get(key)}, strict=True)
        _delete(request, params.ids)
        return Response(ok(True))


class OldFileRenameApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        _required(body, "file_id", "name")
        params = validate(
            FilesMoveIn, {"src_file_ids": [body["file_id"]], "new_name": body["name"]}
        )
        with _old_path_codes(request):
            _move(request, params)
        return Response(ok(True))


class OldFileMvApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        body = json_body(request)
        keys = ("src_file_ids", "dest_file_id", "new_name")
        params = validate(FilesMoveIn, {k: body[k] for k in keys if k in body})
        with _old_path_codes(request):
            _move(request, params)
        return Response(ok(True))


class OldFileConvertApi(APIView):
    def post(self, request: ApiRequest) -> Response:
        """The link rows, as v0.22 answered (R8)."""
        with _old_path_codes(request):
            links = _link(request)
        return Response(ok([file_link_out(link) for link in links]))


class OldFileGetApi(APIView):
    def get(self, request: ApiRequest, file_id: str) -> FileResponse:
        with _old_path_codes(request):
            return _download(request, file_id)


# --- POST /documents/upload (v0.27 §3.3): runtime attachments ----------------------------------


def _attachment_out(file: File, mime_type: str | None) -> dict[str, Any]:
    return {
        "id": file.pk,
        "name": file.name,
        "size": file.size,
        "extension": file.name.rsplit(".", 1)[-1].lower(),
        "mime_type": mime_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream",
        "created_by": file.tenant_id,
        "created_at": file.created_at.timestamp(),
        "preview_url": None,
    }


class DocumentsUploadApi(APIView):
    """Multipart `file` parts (one: an object; several: a list), or `?url=` (checked as RAGFlow
    checks it, then refused: ragsite does not fetch pages)."""

    def post(self, request: ApiRequest) -> Response:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.RAGSITE_MAX_UPLOAD_BYTES
        if length > limit:
            raise ArgumentError(
                f"The upload is {length} bytes, larger than the limit of {limit} bytes."
            )
        raw = request._request
        names = _RawNames(raw)
        raw.upload_handlers.insert(0, names)
        parts = raw.FILES.getlist("file")
        url = request.GET.get("url")
        if parts and url:
            raise ArgumentError("Provide either multipart file(s) or ?url=..., not both.")
        if not parts and not url:
            raise ArgumentError("Missing input: provide multipart file(s) or url")
        if url:
            check_url_is_safe(url)
            raise ArgumentError(
                "ragsite does not fetch URLs: download the page and upload it as a file."
            )
        paths = names.seen if len(names.seen) == len(parts) else [f.name or "" for f in parts]
        uploads = [
            Upload(name=path, file=part, size=part.size or 0)
            for path, part in zip(paths, parts, strict=True)
        ]
        created = attachments_upload(tenant=request.user, uploads=uploads)
        out = [
            _attachment_out(file, part.content_type)
            for file, part in zip(created, parts, strict=True)
        ]
        return Response(ok(out[0] if len(out) == 1 else out))
