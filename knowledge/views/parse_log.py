"""The parse log in the reader's language.

The worker writes a document's log (`progress_msg`) in English, as RAGFlow does, and the API
hands it out unchanged. The pages show it translated: each line the worker is known to write
is matched here and rendered from a translatable template; any other line (an exception's own
words, a note added later) is shown as written. The "HH:MM:SS " stamp and the "[ERROR] " mark
are kept.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

_NUMBER = r"(?P<{}>\d+)"
_PAGES = r"(?P<pages>\d+(?:-\d+)?(?:, \d+(?:-\d+)?)*)"


def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile("^" + regex + "$")


# (what the worker writes, the template shown instead); the groups fill the template's names.
CATALOG: tuple[tuple[re.Pattern[str], str], ...] = (
    (_pattern(r"Task has been received\."), gettext_noop("Task has been received.")),
    (_pattern(r"Start to parse\."), gettext_noop("Start to parse.")),
    (_pattern(r"Chunking\."), gettext_noop("Chunking.")),
    (_pattern(rf"{_NUMBER.format('chunks')} chunk\(s\)\."), gettext_noop("%(chunks)s chunk(s).")),
    (_pattern(r"Indexing\."), gettext_noop("Indexing.")),
    (
        _pattern(r"The task queue is unreachable; parsing starts when it is back\."),
        gettext_noop("The task queue is unreachable; parsing starts when it is back."),
    ),
    (_pattern(r"Cancelled by the user\."), gettext_noop("Cancelled by the user.")),
    (_pattern(rf"Read {_NUMBER.format('bytes')} bytes\."), gettext_noop("Read %(bytes)s bytes.")),
    (
        _pattern(rf"Reading page {_NUMBER.format('page')}/{_NUMBER.format('total')}\."),
        gettext_noop("Reading page %(page)s/%(total)s."),
    ),
    (
        _pattern(rf"Reading slide {_NUMBER.format('slide')}/{_NUMBER.format('total')}\."),
        gettext_noop("Reading slide %(slide)s/%(total)s."),
    ),
    (
        _pattern(rf"Reading sheet {_NUMBER.format('sheet')}/{_NUMBER.format('total')}\."),
        gettext_noop("Reading sheet %(sheet)s/%(total)s."),
    ),
    (_pattern(r"Reading the document\."), gettext_noop("Reading the document.")),
    (
        _pattern(
            rf"Reading the image with OCR \({_NUMBER.format('image')}/{_NUMBER.format('total')}\)\."
        ),
        gettext_noop("Reading the image with OCR (%(image)s/%(total)s)."),
    ),
    (
        _pattern(
            rf"Chunking done: {_NUMBER.format('chunks')} chunks from "
            rf"{_NUMBER.format('pages')} page\(s\)\."
        ),
        gettext_noop("Chunking done: %(chunks)s chunks from %(pages)s page(s)."),
    ),
    (
        _pattern(
            rf"Keywords and questions {_NUMBER.format('done')}/{_NUMBER.format('total')} chunks\."
        ),
        gettext_noop("Keywords and questions %(done)s/%(total)s chunks."),
    ),
    (
        _pattern(rf"Embedding {_NUMBER.format('done')}/{_NUMBER.format('total')}\."),
        gettext_noop("Embedding %(done)s/%(total)s."),
    ),
    (
        _pattern(
            r"Task done \((?P<seconds>[\d.]+)s\): "
            rf"{_NUMBER.format('chunks')} chunks, {_NUMBER.format('tokens')} tokens\."
        ),
        gettext_noop("Task done (%(seconds)ss): %(chunks)s chunks, %(tokens)s tokens."),
    ),
    # Options that cannot apply (knowledge/parsing/options.py, knowledge/enrichment/keywords.py).
    (
        _pattern(
            r"layout_recognize '(?P<layout>.*)' is not available in ragsite; used the PDF text "
            r"layer \(and OCR for pages without one\)\."
        ),
        gettext_noop(
            "layout_recognize '%(layout)s' is not available in ragsite; used the PDF text layer "
            "(and OCR for pages without one)."
        ),
    ),
    (
        _pattern(
            r"Knowledge graph extraction \(GraphRAG\) was requested but needs a chat model; "
            r"not applied\."
        ),
        gettext_noop(
            "Knowledge graph extraction (GraphRAG) was requested but needs a chat model; "
            "not applied."
        ),
    ),
    (
        _pattern(
            r"html4excel only applies to spreadsheets chunked with the naive method; not applied\."
        ),
        gettext_noop(
            "html4excel only applies to spreadsheets chunked with the naive method; not applied."
        ),
    ),
    (
        _pattern(r"The pages setting only applies to PDF files; read the whole document\."),
        gettext_noop("The pages setting only applies to PDF files; read the whole document."),
    ),
    (
        _pattern(
            r"Tagging with tag sets \(tag_kb_ids\) is not supported in ragsite; no tags were added\."
        ),
        gettext_noop(
            "Tagging with tag sets (tag_kb_ids) is not supported in ragsite; no tags were added."
        ),
    ),
    (
        _pattern(r"RAPTOR was requested but needs a chat model; not applied\. (?P<problem>.*)"),
        gettext_noop("RAPTOR was requested but needs a chat model; not applied. %(problem)s"),
    ),
    (
        _pattern(
            rf"auto_keywords \({_NUMBER.format('count')}\) needs a chat model; "
            r"no keywords were generated\. (?P<problem>.*)"
        ),
        gettext_noop(
            "auto_keywords (%(count)s) needs a chat model; no keywords were generated. %(problem)s"
        ),
    ),
    (
        _pattern(
            rf"auto_questions \({_NUMBER.format('count')}\) needs a chat model; "
            r"no questions were generated\. (?P<problem>.*)"
        ),
        gettext_noop(
            "auto_questions (%(count)s) needs a chat model; no questions were generated. "
            "%(problem)s"
        ),
    ),
    (
        _pattern(
            r"RAPTOR is on: build the summaries from the dataset page, or with "
            r"POST (?P<path>\S+), once the documents are parsed\."
        ),
        gettext_noop(
            "RAPTOR is on: build the summaries from the dataset page, or with POST %(path)s, "
            "once the documents are parsed."
        ),
    ),
    # PDF notes (knowledge/parsing/readers/pdf.py) and errors.
    (
        _pattern(
            rf"Page {_NUMBER.format('page')} could not be read \((?P<reason>.*)\); skipped it\."
        ),
        gettext_noop("Page %(page)s could not be read (%(reason)s); skipped it."),
    ),
    (
        _pattern(rf"Pages? {_PAGES} ha(?:s|ve) no text layer; read with OCR\."),
        gettext_noop("No text layer on page(s) %(pages)s; read with OCR."),
    ),
    (
        _pattern(rf"No text was found on pages? {_PAGES}\."),
        gettext_noop("No text was found on page(s) %(pages)s."),
    ),
    (
        _pattern(
            rf"Left out {_NUMBER.format('lines')} running header, footer and page number line\(s\)\."
        ),
        gettext_noop("Left out %(lines)s running header, footer and page number line(s)."),
    ),
    (
        _pattern(rf"Found {_NUMBER.format('tables')} table\(s\)\."),
        gettext_noop("Found %(tables)s table(s)."),
    ),
    (
        _pattern(
            rf"Read {_NUMBER.format('read')} of {_NUMBER.format('total')} pages, "
            r"as the pages setting asks\."
        ),
        gettext_noop("Read %(read)s of %(total)s pages, as the pages setting asks."),
    ),
    (_pattern(r"The PDF has no pages\."), gettext_noop("The PDF has no pages.")),
    (
        _pattern(r"The PDF is password-protected; remove the password and upload it again\."),
        gettext_noop("The PDF is password-protected; remove the password and upload it again."),
    ),
    (
        _pattern(r"The PDF file is damaged and could not be read: (?P<reason>.*)\."),
        gettext_noop("The PDF file is damaged and could not be read: %(reason)s."),
    ),
    # Legacy Office formats through LibreOffice (knowledge/parsing/convert.py).
    (
        _pattern(
            r"(?P<name>.+) needs LibreOffice to be read, and LibreOffice is not installed on the "
            r"server \('(?P<binary>.+)' was not found\); an administrator can install it "
            r"with `make office-deps`\."
        ),
        gettext_noop(
            "%(name)s needs LibreOffice to be read, and LibreOffice is not installed on the "
            "server ('%(binary)s' was not found); an administrator can install it with "
            "`make office-deps`."
        ),
    ),
    (
        _pattern(
            r"LibreOffice could not convert (?P<name>.+) to (?P<target>\.\w+)(?P<detail>.*); "
            r"the file may be damaged, password-protected or not really this type of document\."
        ),
        gettext_noop(
            "LibreOffice could not convert %(name)s to %(target)s%(detail)s; the file may be "
            "damaged, password-protected or not really this type of document."
        ),
    ),
    (
        _pattern(
            r"LibreOffice took longer than (?P<seconds>[\d.]+) seconds to convert (?P<name>.+) "
            r"and was stopped; the file may be damaged or very large\."
        ),
        gettext_noop(
            "LibreOffice took longer than %(seconds)s seconds to convert %(name)s and was "
            "stopped; the file may be damaged or very large."
        ),
    ),
    # Last: "Reading <file name>." once the lines above had their say ("Reading page 3/7.").
    (_pattern(r"Reading (?P<name>.+)\."), gettext_noop("Reading %(name)s.")),
    (
        _pattern(r"Internal error while parsing: (?P<reason>.*)"),
        gettext_noop("Internal error while parsing: %(reason)s"),
    ),
)

_STAMP = re.compile(r"^(?P<stamp>\d\d:\d\d:\d\d )?(?P<error>\[ERROR\] )?(?P<text>.*)$", re.S)


def translate_message(text: str) -> str:
    """One message of the log (no stamp, no mark) in the active language, or as written."""
    for pattern, template in CATALOG:
        match = pattern.match(text)
        if match:
            values = match.groupdict()
            if "problem" in values:  # a sentence the worker took from the catalogue itself
                values["problem"] = gettext(values["problem"])
            return gettext(template) % values
    return text


def translate_line(line: str) -> str:
    """A log line in the active language, its time stamp and error mark kept."""
    parts = _STAMP.match(line)
    if parts is None:
        return line
    return (parts["stamp"] or "") + (parts["error"] or "") + translate_message(parts["text"])


def translate_log(progress_msg: str) -> str:
    return "\n".join(translate_line(line) for line in progress_msg.splitlines())
