"""The agent page's websocket: ask a question, get the agent's replies streamed back.

Client → server: `{"question": "..."}`. Server → client, per question:
- `{"type": "delta", "content": <new text>}` as a Message component produces its reply,
- `{"type": "message_end", "reference": {"chunks": {n: chunk}, "doc_aggs": ...} | null}` after
  each reply (its [ID:n] citations),
- `{"type": "error", "message"}` when the run fails (the message names the failing component) or
  the question is refused,
- and always `{"type": "done"}` last. "done" is sent once the turn is recorded in the session,
  so a reload right after it shows the whole conversation. Connection rules and close
codes: ragsite/consumers.py.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from agents.selectors import agent_session_get
from agents.services.runs import run_events, run_prepare
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError
from ragsite.consumers import ConversationConsumer

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
        try:
            prepared = await database_sync_to_async(run_prepare)(
                tenant=self.user,
                agent_id=self.owner_id,
                question=question,
                session_id=self.session_id,
            )
            # Drain the generator: it records the turn after its last event.
            async for event in run_events(prepared):
                if event.kind == "message":
                    await self.send_payload({"type": "delta", "content": event.content})
                elif event.kind == "message_end":
                    await self.send_payload({"type": "message_end", "reference": event.reference})
                elif event.kind == "error":
                    await self.send_payload({"type": "error", "message": event.error or ""})
        except ServiceError as exc:
            await self.send_payload({"type": "error", "message": exc.message})
        except Exception:
            logger.exception("agent %s: the run failed", self.owner_id)
            message = _("Something went wrong while running the agent. Try again.")
            await self.send_payload({"type": "error", "message": message})
        await self.send_payload({"type": "done"})
