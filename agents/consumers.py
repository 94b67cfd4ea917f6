"""The agent page's websocket: ask a question, get the agent's replies streamed back.

Client → server: `{"question": "..."}`. Server → client, per question:
- `{"type": "delta", "content": <new text>, "html"?}` as a Message component produces its reply
  (now and then `html`: the whole reply so far rendered, which replaces what the page shows),
- `{"type": "message_end", "reference": {"chunks": {n: chunk}, "doc_aggs": ...} | null}` after
  each reply (its [ID:n] citations),
- `{"type": "error", "message"}` when the run fails (the message names the failing component) or
  the question is refused,
- and always `{"type": "done"}` last, with `html` (the reply's <li> as a reload shows it,
  Markdown rendered, which the page swaps in) once the run has started. "done" is sent once the
  turn is recorded in the session, so a reload right after it shows the whole conversation. Connection rules and close
codes: ragsite/consumers.py.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from agents.selectors import agent_session_get
from agents.services.runs import run_events, run_prepare
from agents.views import reply_item_html
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.consumers import ConversationConsumer, PartialRender

logger = logging.getLogger(__name__)


class AgentConsumer(ConversationConsumer):
    """ws/agents/<agent_id>/sessions/<session_id>/ — runs the agent with `run_events`."""

    owner_kwarg = "agent_id"

    @staticmethod
    def owns(user: User, owner_id: str, session_id: str) -> bool:
        return agent_session_get(user, owner_id, session_id) is not None

    async def refuse(self, message: str) -> None:
        await self.send_payload({"type": "error", "message": message})
        await self.send_payload({"type": "done"})

    async def answer(self, question: str) -> None:
        started = False
        text: list[str] = []  # the reply so far, and the chunks its message_ends cite
        chunks: dict[str, Any] = {}
        error = ""
        partial = PartialRender()
        try:
            prepared = await database_sync_to_async(run_prepare)(
                tenant=self.user,
                agent_id=self.owner_id,
                question=question,
                session_id=self.session_id,
            )
            started = True
            # Drain the generator: it records the turn after its last event.
            async for event in run_events(prepared):
                if event.kind == "message":
                    text.append(event.content)
                    payload = {"type": "delta", "content": event.content}
                    if (html := await partial.add(event.content)) is not None:
                        payload["html"] = html
                    await self.send_payload(payload)
                elif event.kind == "message_end":
                    reference = event.reference if isinstance(event.reference, dict) else {}
                    if isinstance(reference.get("chunks"), dict):
                        chunks.update(reference["chunks"])
                    await self.send_payload({"type": "message_end", "reference": event.reference})
                elif event.kind == "error":
                    error = event.error or ""
                    await self.send_payload({"type": "error", "message": error})
        except ServiceError as exc:
            error = exc.message
            await self.send_payload({"type": "error", "message": error})
        except Exception:
            logger.exception("agent %s: the run failed", self.owner_id)
            error = _("Something went wrong while running the agent. Try again.")
            await self.send_payload({"type": "error", "message": error})
        if not started or not (text or error):
            await self.send_payload({"type": "done"})
            return
        # Rendering is CPU work (Markdown of the reply and its passages): off the loop. The ids
        # only need to be unique on the page, which also holds earlier replies.
        number = f"live-{secrets.token_hex(4)}"
        html = await sync_to_async(reply_item_html, thread_sensitive=False)(
            "".join(text), chunks, error, number
        )
        await self.send_payload({"type": "done", "html": html})
