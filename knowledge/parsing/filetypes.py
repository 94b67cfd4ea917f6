"""Which files ragsite can parse, RAGFlow's type and default chunk method for them, and a cheap
check that a file's bytes match its extension (run at upload on the first few KB)."""

from __future__ import annotations

import re
import struct
import zipfile
from io import BytesIO
from pathlib import PurePath

from knowledge.parsing.text import sniff_encoding

PDF_SUFFIXES = frozenset({"pdf"})
IMAGE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"})
OFFICE_SUFFIXES = frozenset({"docx", "xlsx", "pptx"})
# Read after LibreOffice converts them to the Office Open XML format in the same family.
LEGACY_OFFICE_TARGETS = {
    "doc": "docx",
    "rtf": "docx",
    "odt": "docx",
    "xls": "xlsx",
    "ods": "xlsx",
    "ppt": "pptx",
    "odp": "pptx",
}
LEGACY_OFFICE_SUFFIXES = frozenset(LEGACY_OFFICE_TARGETS)
MARKDOWN_SUFFIXES = frozenset({"md", "mdx", "markdown"})
HTML_SUFFIXES = frozenset({"html", "htm"})
DELIMITED_SUFFIXES = frozenset({"csv", "tsv"})
JSON_SUFFIXES = frozenset({"json", "jsonl", "ldjson"})
EMAIL_SUFFIXES = frozenset({"eml"})
# Plain text and source code: read as text, as RAGFlow does.
PLAIN_SUFFIXES = frozenset(
    {
        "txt", "text", "log", "ini", "cfg", "conf", "toml", "yml", "yaml", "xml", "properties",
        "rst", "tex", "py", "js", "jsx", "ts", "tsx", "java", "c", "h", "cpp", "hpp", "cc", "cs",
        "go", "rs", "rb", "php", "kt", "scala", "swift", "sh", "bash", "bat", "ps1", "sql",
        "css", "scss", "less", "vue", "lua", "r", "pl",
    }
)  # fmt: skip
TEXT_SUFFIXES = PLAIN_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | DELIMITED_SUFFIXES
TEXT_SUFFIXES |= JSON_SUFFIXES | EMAIL_SUFFIXES
SUPPORTED_SUFFIXES: frozenset[str] = PDF_SUFFIXES | IMAGE_SUFFIXES | OFFICE_SUFFIXES | TEXT_SUFFIXES
SUPPORTED_SUFFIXES |= LEGACY_OFFICE_SUFFIXES

# RAGFlow's own lists (api/utils/file_utils.py), used only to pick a default chunk method.
_RAGFLOW_VISUAL = re.compile(
    r"(jpg|jpeg|png|tif|tiff|gif|bmp|pcx|tga|exif|fpx|svg|psd|cdr|pcd|dxf|ufo|eps|ai|raw|wmf|"
    r"webp|avif|apng|icon|ico|mpg|mpeg|avi|rm|rmvb|mov|wmv|asf|dat|asx|wvx|mpe|mpa|mp4)"
)

_OFFICE_DIRS = {"docx": b"word/", "xlsx": b"xl/", "pptx": b"ppt/"}
_OFFICE_NAMES = {
    "docx": "a Word document",
    "xlsx": "an Excel workbook",
    "pptx": "a PowerPoint file",
}
_LEGACY_NAMES = {
    "doc": "a Word 97-2003 document (.doc)",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "ppt": "a PowerPoint 97-2003 file (.ppt)",
    "rtf": "an RTF document (.rtf)",
    "odt": "an OpenDocument text (.odt)",
    "ods": "an OpenDocument spreadsheet (.ods)",
    "odp": "an OpenDocument presentation (.odp)",
}
# An OpenDocument file is a ZIP whose first entry, stored uncompressed, is its MIME type.
_ODF_MIMETYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
    "odp": b"application/vnd.oasis.opendocument.presentation",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Office document (.doc, .xls or .ppt)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"{\\rtf", "an RTF document"),
)
_IMAGE_KINDS = frozenset(
    {"a PNG image", "a JPEG image", "a GIF image", "a BMP image", "a TIFF image", "a WEBP image"}
)


def suffix_of(filename: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    return PurePath(filename).suffix.lower().lstrip(".")


def document_type(filename: str) -> str | None:
    """RAGFlow's type for a file ragsite can parse: 'pdf', 'visual' or 'doc'; None otherwise."""
    suffix = suffix_of(filename)
    if suffix not in SUPPORTED_SUFFIXES:
        return None
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in IMAGE_SUFFIXES:
        return "visual"
    return "doc"


def default_chunk_method(filename: str, dataset_method: str) -> str:
    """RAGFlow's rule: images use 'picture', slides 'presentation', emails 'email'."""
    suffix = suffix_of(filename)
    if _RAGFLOW_VISUAL.fullmatch(suffix):
        return "picture"
    if suffix in {"ppt", "pptx", "pages"}:
        return "presentation"
    if suffix in {"eml", "msg"}:
        return "email"
    return dataset_method


def describe_content(data: bytes) -> str | None:
    """What the bytes look like ('a PNG image', 'a ZIP archive' …), from magic numbers."""
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WEBP image"
    # Two-letter signatures also start ordinary text ("BMW …"), so they need their zero bytes.
    if data.startswith(b"BM") and data[6:10] == bytes(4):
        return "a BMP image"
    if data.startswith(b"MZ") and b"\x00" in data[:64]:
        return "a Windows program"
    if data.startswith(b"PK\x03\x04"):
        odf = _odf_kind(data)
        if odf:
            return _LEGACY_NAMES[odf].rsplit(" (", 1)[0]
        kind = _office_kind(data)
        return _OFFICE_NAMES[kind] if kind else "a ZIP archive"
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if b"%PDF-" in data[:1024]:
        return "a PDF file"
    return None


def check_content(filename: str, data: bytes) -> str | None:
    """None if `data` (the whole file or its first KB) plausibly matches the extension; else why."""
    if not data:
        return None
    suffix = suffix_of(filename)
    name = PurePath(filename).name
    looks = describe_content(data)
    hint = f" (its content looks like {looks})" if looks else ""
    if suffix in PDF_SUFFIXES:
        # The PDF header may follow up to 1 KB of junk, and readers accept that.
        return None if b"%PDF-" in data[:1024] else f"{name} is not a PDF file{hint}."
    if suffix in IMAGE_SUFFIXES:
        # A .jpg that holds a PNG still opens as an image, so any image signature will do.
        return None if looks in _IMAGE_KINDS else f"{name} is not an image file{hint}."
    if suffix in OFFICE_SUFFIXES:
        if data.startswith(b"PK\x03\x04") and _office_kind(data) in (suffix, None):
            return None
        if looks is None and data.startswith(b"PK"):
            looks = "a ZIP archive"
        hint = f" (its content looks like {looks})" if looks else ""
        return f"{name} is not {_OFFICE_NAMES[suffix]} (.{suffix}){hint}."
    if suffix in LEGACY_OFFICE_SUFFIXES:
        return (
            None
            if _legacy_matches(suffix, data)
            else f"{name} is not {_LEGACY_NAMES[suffix]}{hint}."
        )
    if suffix in TEXT_SUFFIXES:
        if looks is not None:
            return f"{name} is not a text file (its content looks like {looks})."
        if b"\x00" in data and not _has_utf16_bom(data):
            return f"{name} is not a text file (it contains binary data)."
        if suffix not in EMAIL_SUFFIXES and sniff_encoding(data, partial=True) is None:
            return (
                f"{name} is not UTF-8, UTF-16 (with a byte-order mark) or GB18030 text; "
                "save it as UTF-8 and upload it again."
            )
        return None
    return f"ragsite cannot parse .{suffix} files." if suffix else "The file has no extension."


def _legacy_matches(suffix: str, data: bytes) -> bool:
    """Old Office files are OLE2 compound files (a .doc may also be RTF); .rtf is RTF;
    OpenDocument files are ZIPs that name their MIME type first."""
    if suffix in _ODF_MIMETYPES:
        return _odf_kind(data) == suffix
    if suffix == "rtf":
        return data.startswith(b"{\\rtf")
    return data.startswith(_OLE) or (suffix == "doc" and data.startswith(b"{\\rtf"))


def _odf_kind(data: bytes) -> str | None:
    """'odt', 'ods' or 'odp' from the `mimetype` entry an OpenDocument ZIP starts with."""
    if not data.startswith(b"PK\x03\x04") or len(data) < 30:
        return None
    name_len, extra_len = struct.unpack_from("<HH", data, 26)
    if data[30 : 30 + name_len] != b"mimetype":
        return None
    start = 30 + name_len + extra_len
    for kind, mimetype in _ODF_MIMETYPES.items():
        content = data[start : start + len(mimetype) + 1]
        # "…opendocument.text" but not "…opendocument.text-template" (nor .text-master).
        if content.startswith(mimetype) and content[len(mimetype) :] in (b"", b"P"):
            return kind
    return None


def _has_utf16_bom(data: bytes) -> bool:
    """UTF-16 text legitimately contains NUL bytes."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _office_kind(data: bytes) -> str | None:
    """'docx', 'xlsx' or 'pptx' from a ZIP's entry names; '' if it is none of them; None if the
    (truncated) bytes do not tell."""
    names, complete = _zip_entry_names(data)
    for kind, directory in _OFFICE_DIRS.items():
        if any(entry.startswith(directory) for entry in names):
            return kind
    return "" if complete else None


def _zip_entry_names(data: bytes) -> tuple[list[bytes], bool]:
    """Entry names of a ZIP and whether they are all of them: the central directory of a whole
    file, or the local headers of a truncated one."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return [name.encode() for name in archive.namelist()], True
    except (zipfile.BadZipFile, ValueError, OSError):
        pass
    names = []
    offset = 0
    # Local file header: flags at +6, compressed size at +18, name and extra lengths at +26.
    while data.startswith(b"PK\x03\x04", offset) and offset + 30 <= len(data):
        (flags,) = struct.unpack_from("<H", data, offset + 6)
        (size,) = struct.unpack_from("<I", data, offset + 18)
        name_len, extra_len = struct.unpack_from("<HH", data, offset + 26)
        names.append(data[offset + 30 : offset + 30 + name_len])
        if flags & 0x08:
            # The size follows the data, so look for the next header instead of jumping to it.
            offset = data.find(b"PK\x03\x04", offset + 30 + name_len)
            if offset < 0:
                break
        else:
            offset += 30 + name_len + extra_len + size
    return names, False
