"""The parser_config values ragsite uses, and notes for the ones it cannot apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.parsing.convert import OfficeConverter

DEFAULT_CHUNK_TOKEN_NUM = 512
DEFAULT_DELIMITER = "\n"
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\n"}


@dataclass
class Options:
    """The parser_config values the readers and chunkers use, already checked."""

    chunk_token_num: int = DEFAULT_CHUNK_TOKEN_NUM
    delimiter: str = DEFAULT_DELIMITER
    pages: list[tuple[int, int]] | None = None  # 1-based inclusive PDF page ranges
    html4excel: bool = False
    ocr_all_pages: bool = False  # `picture` reads every PDF page with OCR
    office: OfficeConverter = field(default_factory=OfficeConverter)  # for .doc, .xls, .ppt …
    notes: list[str] = field(default_factory=list)  # problems found while reading the config


def read_options(parser_config: dict[str, Any]) -> Options:
    """Options from a RAGFlow parser_config; unknown keys are ignored, bad values noted."""
    options = Options()
    size = parser_config.get("chunk_token_num")
    if size is not None:
        if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
            options.chunk_token_num = size
        else:
            options.notes.append(
                f"chunk_token_num {size!r} is not a positive whole number; "
                f"used {DEFAULT_CHUNK_TOKEN_NUM}."
            )
    delimiter = parser_config.get("delimiter")
    if isinstance(delimiter, str) and delimiter:
        options.delimiter = unescape_delimiter(delimiter)
    options.html4excel = parser_config.get("html4excel") is True
    options.pages = _page_ranges(parser_config.get("pages"), options.notes)
    return options


def unescape_delimiter(delimiter: str) -> str:
    """RAGFlow stores newlines in delimiters either as real newlines or as backslash-n."""
    for escaped, real in _ESCAPES.items():
        delimiter = delimiter.replace(escaped, real)
    return delimiter


def _page_ranges(value: Any, notes: list[str]) -> list[tuple[int, int]] | None:
    """[[from, to], …] as 1-based inclusive ranges, or None for every page."""
    if value in (None, []):
        return None
    ranges = []
    if isinstance(value, list):
        for item in value:
            if (
                isinstance(item, list | tuple)
                and len(item) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in item)
                and 1 <= item[0] <= item[1]
            ):
                ranges.append((item[0], item[1]))
            else:
                ranges = []
                break
    if not ranges:
        notes.append(f"pages {value!r} is not a list of [from, to] page ranges; read every page.")
        return None
    return ranges


# layout_recognize values that mean "just read the text", which is what ragsite does.
_PLAIN_LAYOUTS = frozenset({"", "plain text", "naive"})


def unsupported_option_notes(
    parser_config: dict[str, Any], *, suffix: str, method: str
) -> list[str]:
    """A sentence for each requested option that ragsite cannot apply to this document."""
    notes = []
    layout = parser_config.get("layout_recognize", "DeepDOC")
    layout = "DeepDOC" if layout is True else layout
    if (
        suffix == "pdf"
        and method != "picture"
        and isinstance(layout, str)
        and layout.strip().lower() not in _PLAIN_LAYOUTS
    ):
        notes.append(
            f"layout_recognize '{layout}' is not available in ragsite; used the PDF text layer "
            "(and OCR for pages without one)."
        )
    if _section(parser_config, "graphrag").get("use_graphrag") is True:
        notes.append(
            "Knowledge graph extraction (GraphRAG) was requested but needs a chat model; not applied."
        )
    # RAPTOR, auto keywords and questions: knowledge.enrichment.keywords, which knows whether
    # a chat model is configured.
    if parser_config.get("html4excel") is True and not (
        method == "naive" and suffix in {"xlsx", "xls", "ods", "csv", "tsv"}
    ):
        notes.append(
            "html4excel only applies to spreadsheets chunked with the naive method; not applied."
        )
    if parser_config.get("pages") and suffix != "pdf":
        notes.append("The pages setting only applies to PDF files; read the whole document.")
    if parser_config.get("tag_kb_ids"):
        notes.append(
            "Tagging with tag sets (tag_kb_ids) is not supported in ragsite; no tags were added."
        )
    return notes


def _section(parser_config: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested parser_config object, or {} when it is missing or not an object."""
    value = parser_config.get(key)
    return value if isinstance(value, dict) else {}
