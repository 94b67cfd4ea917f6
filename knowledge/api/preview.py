"""GET /api/v1/documents/{doc_id}/preview (and v0.27's deprecated /document/get/{doc_id}).

RAGFlow v0.27 (`document_api.get`): the raw bytes inline, with the type from its table and the
name made ASCII-safe; HTML, XML and SVG always as an attachment with `nosniff`. Another
tenant's document answers exactly like a missing one (102 `document not found`).
"""

from __future__ import annotations

import re

from django.http import FileResponse
from rest_framework.views import APIView

from knowledge.parsing.filetypes import suffix_of
from knowledge.selectors import document_get_visible_or_raise
from knowledge.services.documents import document_open
from ragsite.api.auth import ApiRequest
from ragsite.api.errors import DataError

# RAGFlow's CONTENT_TYPE_MAP (api/utils/file_response.py at v0.27.0).
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    **dict.fromkeys(
        ["txt", "py", "js", "java", "c", "cpp", "h", "php", "go", "ts", "sh", "cs", "kt", "sql"],
        "text/plain",
    ),
    "md": "text/markdown",
    "markdown": "text/markdown",
    "mdx": "text/markdown",
    "htm": "text/html",
    "html": "text/html",
    "json": "application/json",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "tif": "image/tiff",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "ico": "image/x-icon",
    "avif": "image/avif",
    "heic": "image/heic",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_FORCE_ATTACHMENT_SUFFIXES = frozenset(
    {"htm", "html", "shtml", "xht", "xhtml", "xml", "mhtml", "svg"}
)
_FORCE_ATTACHMENT_TYPES = frozenset(
    {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml"}
)


def _safe_name(name: str) -> str:
    """RAGFlow's sanitize_content_disposition_filename: ASCII word characters, dots, dashes."""
    base = name.split("/")[-1].split("\\")[-1]
    return re.sub(r"[^\w.\-]", "_", base, flags=re.ASCII)


class DocumentPreviewApi(APIView):
    def get(self, request: ApiRequest, document_id: str) -> FileResponse:
        document = document_get_visible_or_raise(
            request.user, document_id, error=DataError("document not found")
        )
        handle = document_open(document)  # 102 `This file is empty.`
        suffix = suffix_of(document.name)
        content_type = None
        if suffix:
            fallback = "image" if document.type == "visual" else "application"
            content_type = CONTENT_TYPES.get(suffix, f"{fallback}/{suffix}")
        response = FileResponse(handle, content_type=content_type or "application/octet-stream")
        if suffix in _FORCE_ATTACHMENT_SUFFIXES or content_type in _FORCE_ATTACHMENT_TYPES:
            response["X-Content-Type-Options"] = "nosniff"
            response["Content-Disposition"] = "attachment"
        else:
            safe = _safe_name(document.name)
            response["Content-Disposition"] = f'inline; filename="{safe}"' if safe else "inline"
        return response
