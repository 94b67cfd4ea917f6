"""The chat page's websocket: ask a question, get the answer streamed back.

Client → server: `{"question": "..."}`. Server → client, per question: zero or more
`{"type": "delta", "answer": <cumulative text>}`, then `{"type": "final", "answer", "reference"}`
or `{"type": "error", "message"}`. The final (or error) message is sent only once the turn is
recorded in the session, so a reload right after it shows the whole conversation.

Close codes: 4401 when nobody is logged in, 4404 when the chat or session is not the user's.
Both are sent after accepting, because a browser sees no code for a refused handshake.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from chat.services.answering import AnswerEvent
from chat.services.completions import completion_events, completion_prepare
from chat.services.sessions import live_chat, session_list
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
MAX_QUESTION_CHARS = 8000

# Answers run as tasks that outlive a dropped connection, so the turn is still recorded;
# holding them here keeps them from being garbage-collected mid-answer.
_answers: set[asyncio.Task[None]] = set()


def _owns_session(user: User, chat_id: str, session_id: str) -> bool:
    chat = live_chat(user, chat_id)
    return chat is not None and session_list(chat=chat, session_id=session_id).exists()


def _language(scope: dict[str, Any]) -> str:
    # The same choice LocaleMiddleware makes for pages: language cookie, then Accept-Language.
    headers = dict(scope.get("headers") or [])
    meta = {"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", b"").decode("latin-1")}
    request = SimpleNamespace(COOKIES=scope.get("cookies") or {}, META=meta)
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """ws/chat/<chat_id>/sessions/<session_id>/ — answers with `completion_events`."""

    # Answers go to this socket only (no groups), so the consumer skips the channel layer: an
    # open chat page holds no blocking Redis read of its own. An alias that is not configured
    # makes Channels run the consumer without a layer.
    channel_layer_alias = "chat-socket-without-layer"

    user: User
    chat_id: str
    session_id: str
    language = ""
    answering: asyncio.Task[None] | None = None
    gone = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        self.chat_id, self.session_id = str(kwargs["chat_id"]), str(kwargs["session_id"])
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(_owns_session)(user, self.chat_id, self.session_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.language = _language(self.scope)

    async def disconnect(self, code: int) -> None:
        # A running answer goes on and is recorded; it just stops sending.
        self.gone = True

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not hasattr(self, "user"):  # closed in connect(); frames may still arrive
            return
        question = content.get("question") if isinstance(content, dict) else None
        with translation.override(self.language or None):
            if not isinstance(question, str) or not question.strip():
                await self._send({"type": "error", "message": _("Type a question first.")})
            elif len(question) > MAX_QUESTION_CHARS:
                message = _("The question is too long: at most %(max)d characters.") % {
                    "max": MAX_QUESTION_CHARS
                }
                await self._send({"type": "error", "message": message})
            elif self.answering is not None and not self.answering.done():
                message = _("Wait until the current answer is finished.")
                await self._send({"type": "error", "message": message})
            else:
                task = asyncio.create_task(self._answer(question.strip()))
                self.answering = task
                _answers.add(task)
                task.add_done_callback(_answers.discard)

    async def _send(self, payload: dict[str, Any]) -> None:
        if not self.gone:
            await self.send_json(payload)

    async def _answer(self, question: str) -> None:
        with translation.override(self.language or None):
            try:
                prepared = await database_sync_to_async(completion_prepare)(
                    tenant=self.user,
                    chat_id=self.chat_id,
                    body={"question": question, "session_id": self.session_id},
                )
                last: AnswerEvent | None = None
                # Drain the generator: it records the turn after its last event.
                async for event in completion_events(prepared):
                    if event.final or event.error is not None:
                        last = event
                    else:
                        await self._send({"type": "delta", "answer": event.answer})
            except ServiceError as exc:
                await self._send({"type": "error", "message": exc.message})
                return
            except Exception:
                logger.exception("chat %s: answering failed", self.chat_id)
                message = _("Something went wrong while answering. Try again.")
                await self._send({"type": "error", "message": message})
                return
            if last is None:
                await self._send({"type": "error", "message": _("No answer was produced.")})
            elif last.error is not None:
                await self._send({"type": "error", "message": last.error})
            else:
                await self._send(
                    {"type": "final", "answer": last.answer, "reference": last.reference}
                )
