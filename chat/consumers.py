"""The chat page's websocket: ask a question, get the answer streamed back.

Client → server: `{"question": "..."}`. Server → client, per question: zero or more
`{"type": "delta", "content": <new text>, "html"?}` (the page appends them; now and then
`html` is the whole answer so far rendered, which replaces what the page shows), then
`{"type": "final", "answer", "reference", "html"}` (the whole answer, with its citations, and
`html`: the answer's <li> as a reload shows it, Markdown rendered, which the page swaps in;
`session_name`: the session's name now, which the first question may have given it) or
`{"type": "error", "message"}`. The final (or error) message is sent only once the turn is
recorded in the session, so a reload right after it shows the whole conversation. Connection
rules and close codes: ragsite/consumers.py.
"""

from __future__ import annotations

import logging
import secrets

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from chat.selectors import chat_get_owned, session_get
from chat.services.answering import AnswerEvent
from chat.services.completions import Question, completion_events, completion_prepare
from chat.views import answer_extras, answer_item_html
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.consumers import ConversationConsumer, PartialRender

logger = logging.getLogger(__name__)


class ChatConsumer(ConversationConsumer):
    """ws/chat/<chat_id>/sessions/<session_id>/ — answers with `completion_events`."""

    owner_kwarg = "chat_id"
    # Answers go to this socket only (no groups), so the consumer skips the channel layer: an
    # open chat page holds no blocking Redis read of its own. An alias that is not configured
    # makes Channels run the consumer without a layer.
    channel_layer_alias = "chat-socket-without-layer"

    @staticmethod
    def owns(user: User, owner_id: str, session_id: str) -> bool:
        chat = chat_get_owned(user, owner_id)
        return chat is not None and session_get(chat, session_id) is not None

    def session_name(self) -> str:
        chat = chat_get_owned(self.user, self.owner_id)
        session = session_get(chat, self.session_id) if chat is not None else None
        return session.name if session is not None else ""

    async def answer(self, question: str) -> None:
        try:
            prepared = await database_sync_to_async(completion_prepare)(
                tenant=self.user,
                chat_id=self.owner_id,
                question=Question(text=question, session_id=self.session_id),
            )
            last: AnswerEvent | None = None
            partial = PartialRender()
            # Drain the generator: it records the turn after its last event.
            async for event in completion_events(prepared):
                if event.final or event.error is not None:
                    last = event
                else:
                    payload = {"type": "delta", "content": event.delta}
                    if (html := await partial.add(event.delta)) is not None:
                        payload["html"] = html
                    await self.send_payload(payload)
        except ServiceError as exc:
            await self.send_payload({"type": "error", "message": exc.message})
            return
        except Exception:
            logger.exception("chat %s: answering failed", self.owner_id)
            message = _("Something went wrong while answering. Try again.")
            await self.send_payload({"type": "error", "message": message})
            return
        if last is None:
            await self.send_payload({"type": "error", "message": _("No answer was produced.")})
        elif last.error is not None:
            await self.send_payload({"type": "error", "message": last.error})
        else:
            # Rendering is CPU work (Markdown of the answer and its passages): off the loop.
            # The ids only need to be unique on the page, which also holds earlier answers.
            number = f"live-{secrets.token_hex(4)}"
            # Feedback, delete, mind map and related questions, as a reload shows them.
            extras = answer_extras(
                self.owner_id,
                self.session_id,
                {"id": prepared.message_id},
                question,
                last=True,
            )
            html = await sync_to_async(answer_item_html, thread_sensitive=False)(
                last.answer, last.reference, number, extras
            )
            name = await database_sync_to_async(self.session_name)()
            await self.send_payload(
                {
                    "type": "final",
                    "answer": last.answer,
                    "reference": last.reference,
                    "html": html,
                    "session_name": name,
                }
            )
