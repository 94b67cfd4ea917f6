"""What the chat and agent pages' websockets share: who may talk, what counts as a question,
one answer at a time, answers that outlive a dropped connection.

Close codes: 4401 when nobody is logged in, 4404 when the chat/agent or session is not the
user's. Both are sent after accepting, because a browser sees no code for a refused handshake.

What the client sends is checked before it is decoded: binary frames and text frames too long to
hold a question of RAGSITE_MAX_QUESTION_CHARS are answered with an error message (the connection
stays open; Daphne itself closes with 1009 above its 1 MiB message limit). Questions are cleaned
with ragsite.text.clean_text (NUL removed, lone surrogates replaced) before they go anywhere.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from types import SimpleNamespace
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from ragsite.accounts.models import User
from ragsite.markdown import render_markdown
from ragsite.text import clean_text

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
# JSON may spell one character of a question in up to six (`\u0000`); this much more is room
# for the rest of the message.
FRAME_OVERHEAD_CHARS = 1024


def max_frame_chars() -> int:
    """The longest text frame that can hold a question of RAGSITE_MAX_QUESTION_CHARS."""
    return 6 * settings.RAGSITE_MAX_QUESTION_CHARS + FRAME_OVERHEAD_CHARS


def too_long_message() -> str:
    return _("The question is too long: at most %(max)d characters.") % {
        "max": settings.RAGSITE_MAX_QUESTION_CHARS
    }


# Answers run as tasks that outlive a dropped connection, so the turn is still recorded;
# holding them here keeps them from being garbage-collected mid-answer.
_running: set[asyncio.Task[None]] = set()


def scope_language(scope: dict[str, Any]) -> str:
    """The choice LocaleMiddleware makes for pages: language cookie, then Accept-Language."""
    headers = dict(scope.get("headers") or [])
    meta = {"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", b"").decode("latin-1")}
    request = SimpleNamespace(COOKIES=scope.get("cookies") or {}, META=meta)
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


# A citation marker, and the start of one cut off at the end of the text so far.
CITATION_MARKER = re.compile(r"\[ID:(\d+)\]")
PARTIAL_MARKER = re.compile(r"\[(I(D(:\d*)?)?)?$")


def partial_answer_html(text: str) -> str:
    """An answer still streaming as sanitized HTML: its Markdown rendered, citation markers
    (and one cut in two at the end) left out until the final answer brings its sources."""
    return str(render_markdown(PARTIAL_MARKER.sub("", text), markers=CITATION_MARKER))


class PartialRender:
    """The streamed text so far, rendered at most every `interval` seconds, so that a page
    shows lists, code and emphasis while an answer streams instead of raw Markdown."""

    def __init__(self, interval: float = 0.15) -> None:
        self.interval = interval
        self.text = ""
        self._rendered_at = float("-inf")

    async def add(self, delta: str) -> str | None:
        """Append `delta`; the HTML of the whole text when it is time to render again."""
        self.text += delta
        now = time.monotonic()
        if now - self._rendered_at < self.interval:
            return None
        self._rendered_at = now
        return await sync_to_async(partial_answer_html, thread_sensitive=False)(self.text)


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    """ws/<thing>/<owner_id>/sessions/<session_id>/: subclasses say who owns what and answer."""

    owner_kwarg = ""  # the URL kwarg naming the chat or agent
    user: User
    owner_id: str
    session_id: str
    language = ""
    answering: asyncio.Task[None] | None = None
    gone = False

    @staticmethod
    def owns(user: User, owner_id: str, session_id: str) -> bool:
        """Whether the session belongs to this chat/agent and both to the user (sync)."""
        raise NotImplementedError

    async def answer(self, question: str) -> None:
        """Answer one question, sending its messages (runs as a task)."""
        raise NotImplementedError

    async def refuse(self, message: str) -> None:
        await self.send_payload({"type": "error", "message": message})

    async def connect(self) -> None:
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        self.owner_id, self.session_id = str(kwargs[self.owner_kwarg]), str(kwargs["session_id"])
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(self.owns)(user, self.owner_id, self.session_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.language = scope_language(self.scope)

    async def disconnect(self, code: int) -> None:
        # A running answer goes on and is recorded; it just stops sending.
        self.gone = True

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):
            return None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Check a frame before decoding it (the JSON consumer would fail on a binary one)."""
        if not hasattr(self, "user"):  # closed in connect(); frames may still arrive
            return
        with translation.override(self.language or None):
            if text_data is None:
                await self.refuse(_("Send questions as text messages."))
            elif len(text_data) > max_frame_chars():
                await self.refuse(too_long_message())
            else:
                await self.receive_json(await self.decode_json(text_data))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not hasattr(self, "user"):
            return
        question = content.get("question") if isinstance(content, dict) else None
        if isinstance(question, str):
            question = clean_text(question)
        with translation.override(self.language or None):
            if not isinstance(question, str) or not question.strip():
                await self.refuse(_("Type a question first."))
            elif len(question) > settings.RAGSITE_MAX_QUESTION_CHARS:
                await self.refuse(too_long_message())
            elif self.answering is not None and not self.answering.done():
                await self.refuse(_("Wait until the current answer is finished."))
            else:
                task = asyncio.create_task(self._answer_in_language(question.strip()))
                self.answering = task
                _running.add(task)
                task.add_done_callback(_running.discard)

    async def _answer_in_language(self, question: str) -> None:
        with translation.override(self.language or None):
            await self.answer(question)

    async def send_payload(self, payload: dict[str, Any]) -> None:
        if not self.gone:
            await self.send_json(payload)
