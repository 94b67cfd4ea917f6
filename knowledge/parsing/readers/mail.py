"""Email (.eml): headers, the text body (or the HTML one as text), and readable attachments."""

from __future__ import annotations

from collections.abc import Callable
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import cast

from knowledge.parsing.context import ParseContext
from knowledge.parsing.filetypes import SUPPORTED_SUFFIXES, check_content, suffix_of
from knowledge.parsing.readers.plain import text_blocks
from knowledge.parsing.readers.web import read_html
from knowledge.parsing.text import clean_text
from knowledge.parsing.types import Attachment, Block, Extracted, ParseError

HEADERS = ("From", "To", "Cc", "Subject", "Date")

ReadFile = Callable[[bytes, str], Extracted]


def read_eml(data: bytes, filename: str, ctx: ParseContext, read_file: ReadFile) -> Extracted:
    """Header and body blocks; attachments ragsite can read are read with `read_file`."""
    try:
        # policy.default builds EmailMessage objects, which the stubs do not know.
        message = cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(data))
    except Exception as exc:  # noqa: BLE001 - the parser is lenient; anything raised means junk
        raise ParseError(f"{filename} is not a valid email file: {exc}.") from exc
    extracted = Extracted()
    headers = [f"{name}: {_header(message, name)}" for name in HEADERS if _header(message, name)]
    if headers:
        extracted.blocks.append(Block("\n".join(headers)))
    extracted.blocks.extend(_body(message))
    for part in message.iter_attachments():
        ctx.check_stop()
        attachment = _attachment(part, ctx, read_file)
        if attachment is not None:
            extracted.attachments.append(attachment)
    return extracted


def _header(message: EmailMessage, name: str) -> str:
    """A decoded header value, or '' when it is missing or unreadable."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header should not sink the whole email
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _body(message: EmailMessage) -> list[Block]:
    """The plain-text body, or the HTML body's text when there is no plain part."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return []
    text = _text_of(body)
    if body.get_content_subtype() == "html":
        return read_html(text.encode("utf-8"), "body.html").blocks
    return text_blocks(clean_text(text))


def _text_of(part: Message) -> str:
    """A text part's content, decoded with its charset (or UTF-8 when that is unknown)."""
    try:
        return str(part.get_content())  # type: ignore[attr-defined]
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _attachment(part: Message, ctx: ParseContext, read_file: ReadFile) -> Attachment | None:
    """The attachment read as a file, or None (with a note) when it cannot be."""
    name = part.get_filename() or ""
    if not name:
        ctx.note(f"Skipped an attachment without a file name ({part.get_content_type()}).")
        return None
    if suffix_of(name) not in SUPPORTED_SUFFIXES:
        ctx.note(f"Skipped the attachment {name}: ragsite cannot read this type of file.")
        return None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        ctx.note(f"Skipped the attachment {name}: it is empty.")
        return None
    problem = check_content(name, payload)
    try:
        if problem:
            raise ParseError(problem)
        return Attachment(name, read_file(payload, name))
    except ParseError as exc:
        ctx.note(f"Skipped the attachment {name}: {exc.message}")
        return None
