"""The Files page: the user's folder tree, uploads, folders, rename, move, delete and links to
knowledge bases, over the same services as /api/v1/files.

Every action posts to its own URL; HTMX swaps the browser panel (`#file-browser`) with the
result, and without JavaScript the action redirects back to the folder.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from knowledge.models import Dataset, File
from knowledge.selectors import (
    file_ancestors,
    file_descendants,
    file_get_or_raise,
    file_links_info,
    file_tree,
    files_listed,
    folder_get_or_raise,
    folder_summary,
)
from knowledge.services.documents import Upload
from knowledge.services.files import (
    file_links_set,
    file_open,
    file_root,
    files_delete,
    files_move,
    files_upload,
    folder_create,
)
from ragsite.api.errors import ServiceError
from ragsite.http import HtmxHttpRequest, login_required


def _folder_or_404(request: HtmxHttpRequest, folder_id: str | None) -> File:
    if not folder_id:
        return file_root(request.user)
    try:
        return folder_get_or_raise(request.user, folder_id, missing="")
    except ServiceError as exc:
        raise Http404 from exc


def _file_or_404(request: HtmxHttpRequest, file_id: str) -> File:
    try:
        return file_get_or_raise(request.user, file_id, missing="")
    except ServiceError as exc:
        raise Http404 from exc


def _browser_context(
    request: HtmxHttpRequest, folder: File, *, error: str = "", notice: str = ""
) -> dict[str, object]:
    user = request.user
    tree = file_tree(user)
    entries = list(files_listed(user, folder, keywords="", orderby="name", desc=False))
    entries.sort(key=lambda f: (not f.is_folder, f.name.lower()))
    links = file_links_info([f.pk for f in entries if not f.is_folder])
    folders = {f.pk: f for f in File.objects.filter(tenant=user, type=File.Type.FOLDER)}
    paths = {pk: _path_label(folder, folders) for pk, folder in folders.items()}
    for entry in entries:
        if entry.is_folder:
            entry.total_size, _child = folder_summary(user, entry, tree)  # type: ignore[attr-defined]
            below = {f.pk for f in file_descendants(user, entry, tree)} | {entry.pk}
        else:
            entry.kb_links = links[entry.pk]  # type: ignore[attr-defined]
            entry.linked_ids = {link["kb_id"] for link in links[entry.pk]}  # type: ignore[attr-defined]
            below = set()
        # Where it may go: any folder but its current one, itself and what is below it.
        entry.targets = sorted(  # type: ignore[attr-defined]
            (
                (pk, label)
                for pk, label in paths.items()
                if pk not in below and pk != entry.parent_id
            ),
            key=lambda item: item[1].lower(),
        )
    return {
        "folder": folder,
        "crumbs": list(reversed(file_ancestors(folder))),
        "entries": entries,
        "datasets": Dataset.objects.filter(tenant=user).order_by("name"),
        "max_upload_bytes": settings.RAGSITE_MAX_UPLOAD_BYTES,
        "error": error,
        "notice": notice,
    }


def _path_label(folder: File, folders: dict[str, File]) -> str:
    """`/a/b` for folder b in a, from the user's folders already loaded."""
    names: list[str] = []
    current: File | None = folder
    while current is not None and not current.is_root and len(names) < 1000:
        names.append(current.name)
        current = folders.get(current.parent_id)
    return "/" + "/".join(reversed(names))


def _after_action(
    request: HtmxHttpRequest, folder: File, *, error: str = "", notice: str = ""
) -> HttpResponse:
    if request.htmx:
        context = _browser_context(request, folder, error=error, notice=notice)
        return render(request, "knowledge/_file_browser.html", context)
    if error:
        context = _browser_context(request, folder, error=error)
        return render(request, "knowledge/files.html", context, status=400)
    return (
        redirect("knowledge:file_folder", folder.pk)
        if not folder.is_root
        else redirect("knowledge:files")
    )


@login_required
@require_http_methods(["GET"])
def files(request: HtmxHttpRequest, folder_id: str | None = None) -> HttpResponse:
    folder = _folder_or_404(request, folder_id)
    context = _browser_context(request, folder)
    template = "knowledge/_file_browser.html" if request.htmx else "knowledge/files.html"
    return render(request, template, context)


@login_required
@require_http_methods(["POST"])
def upload_files(request: HtmxHttpRequest, folder_id: str) -> HttpResponse:
    folder = _folder_or_404(request, folder_id)
    parts = request.FILES.getlist("file")
    if not parts:
        return _after_action(request, folder, error=_("Choose one or more files to upload."))
    uploads = [Upload(name=f.name or "", file=f, size=f.size or 0) for f in parts]
    try:
        created = files_upload(tenant=request.user, parent_id=folder.pk, uploads=uploads)
    except ServiceError as exc:
        return _after_action(request, folder, error=exc.message)
    notice = _("Uploaded %(count)d file(s).") % {"count": len(created)}
    return _after_action(request, folder, notice=notice)


@login_required
@require_http_methods(["POST"])
def create_folder(request: HtmxHttpRequest, folder_id: str) -> HttpResponse:
    folder = _folder_or_404(request, folder_id)
    name = request.POST.get("name", "").strip()
    if not name:
        return _after_action(request, folder, error=_("Give the new folder a name."))
    try:
        folder_create(tenant=request.user, name=name, parent_id=folder.pk, type="folder")
    except ServiceError as exc:
        return _after_action(request, folder, error=exc.message)
    return _after_action(request, folder, notice=_("Folder “%(name)s” created.") % {"name": name})


@login_required
@require_http_methods(["POST"])
def rename_file(request: HtmxHttpRequest, file_id: str) -> HttpResponse:
    file = _file_or_404(request, file_id)
    folder = _folder_or_404(request, file.parent_id)
    name = request.POST.get("name", "").strip()
    if not name:
        return _after_action(request, folder, error=_("A name can't be empty."))
    try:
        files_move(tenant=request.user, src_file_ids=[file.pk], dest_file_id=None, new_name=name)
    except ServiceError as exc:
        return _after_action(request, folder, error=exc.message)
    return _after_action(request, folder, notice=_("Renamed to “%(name)s”.") % {"name": name})


@login_required
@require_http_methods(["POST"])
def move_file(request: HtmxHttpRequest, file_id: str) -> HttpResponse:
    file = _file_or_404(request, file_id)
    folder = _folder_or_404(request, file.parent_id)
    dest = request.POST.get("dest", "")
    try:
        files_move(tenant=request.user, src_file_ids=[file.pk], dest_file_id=dest, new_name=None)
    except ServiceError as exc:
        return _after_action(request, folder, error=exc.message)
    return _after_action(request, folder, notice=_("“%(name)s” moved.") % {"name": file.name})


@login_required
@require_http_methods(["POST"])
def delete_file(request: HtmxHttpRequest, file_id: str) -> HttpResponse:
    file = _file_or_404(request, file_id)
    folder = _folder_or_404(request, file.parent_id)
    outcome = files_delete(tenant=request.user, ids=[file.pk])
    if outcome.errors:
        return _after_action(request, folder, error="\n".join(outcome.errors))
    return _after_action(request, folder, notice=_("“%(name)s” deleted.") % {"name": file.name})


@login_required
@require_http_methods(["POST"])
def link_file(request: HtmxHttpRequest, file_id: str) -> HttpResponse:
    file = _file_or_404(request, file_id)
    folder = _folder_or_404(request, file.parent_id)
    try:
        file_links_set(tenant=request.user, file_id=file.pk, kb_ids=request.POST.getlist("kb"))
    except ServiceError as exc:
        return _after_action(request, folder, error=exc.message)
    notice = _("Knowledge bases of “%(name)s” saved.") % {"name": file.name}
    return _after_action(request, folder, notice=notice)


@login_required
@require_http_methods(["GET"])
def download_file(request: HtmxHttpRequest, file_id: str) -> FileResponse:
    file = _file_or_404(request, file_id)
    try:
        handle = file_open(file)
    except ServiceError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=file.name)
