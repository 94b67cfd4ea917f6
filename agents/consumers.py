"""The agent page's websocket: ask a question, get the agent's replies streamed back.

Client → server: `{"question": "..."}`. Server → client, per question:
- `{"type": "delta", "content": <new text>}` as a Message component produces its reply,
- `{"type": "message_end", "reference": {"chunks": {n: chunk}, "doc_aggs": ...} | null}` after
  each reply (its [ID:n] citations),
- `{"type": "error", "message"}` when the run fails (the message names the failing component) or
  the question is refused,
- and always `{"type": "done"}` last. "done" is sent once the turn is recorded in the session,
  so a reload right after it shows the whole conversation.

Close codes: 4401 when nobody is logged in, 4404 when the agent or session is not the user's.
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

from agents.models import AgentSession
from agents.services.runs import run_events, run_prepare
from ragsite.accounts.models import User
from ragsite.api.errors import ServiceError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
MAX_QUESTION_CHARS = 8000

# Runs are tasks that outlive a dropped connection, so the turn is still recorded; holding them
# here keeps them from being garbage-collected mid-run.
_runs: set[asyncio.Task[None]] = set()


def _owns_session(user: User, agent_id: str, session_id: str) -> bool:
    return AgentSession.objects.filter(
        pk=session_id, agent_key=agent_id, agent__tenant=user, tenant=user
    ).exists()


def _language(scope: dict[str, Any]) -> str:
    # The same choice LocaleMiddleware makes for pages: language cookie, then Accept-Language.
    headers = dict(scope.get("headers") or [])
    meta = {"HTTP_ACCEPT_LANGUAGE": headers.get(b"accept-language", b"").decode("latin-1")}
    request = SimpleNamespace(COOKIES=scope.get("cookies") or {}, META=meta)
    return translation.get_language_from_request(request)  # type: ignore[arg-type]


class AgentConsumer(AsyncJsonWebsocketConsumer):
    """ws/agents/<agent_id>/sessions/<session_id>/ — runs the agent with `run_events`."""

    user: User
    agent_id: str
    session_id: str
    language = ""
    running: asyncio.Task[None] | None = None
    gone = False

    async def connect(self) -> None:
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        self.agent_id, self.session_id = str(kwargs["agent_id"]), str(kwargs["session_id"])
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(_owns_session)(user, self.agent_id, self.session_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        self.language = _language(self.scope)

    async def disconnect(self, code: int) -> None:
        # A running agent goes on and its turn is recorded; it just stops sending.
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
                await self._refuse(_("Type a question first."))
            elif len(question) > MAX_QUESTION_CHARS:
                await self._refuse(
                    _("The question is too long: at most %(max)d characters.")
                    % {"max": MAX_QUESTION_CHARS}
                )
            elif self.running is not None and not self.running.done():
                await self._refuse(_("Wait until the current answer is finished."))
            else:
                task = asyncio.create_task(self._run(question.strip()))
                self.running = task
                _runs.add(task)
                task.add_done_callback(_runs.discard)

    async def _send(self, payload: dict[str, Any]) -> None:
        if not self.gone:
            await self.send_json(payload)

    async def _refuse(self, message: str) -> None:
        await self._send({"type": "error", "message": message})
        await self._send({"type": "done"})

    async def _run(self, question: str) -> None:
        with translation.override(self.language or None):
            try:
                prepared = await database_sync_to_async(run_prepare)(
                    tenant=self.user,
                    agent_id=self.agent_id,
                    body={"question": question, "session_id": self.session_id},
                )
                # Drain the generator: it records the turn after its last event.
                async for event in run_events(prepared):
                    if event.kind == "message":
                        await self._send({"type": "delta", "content": event.content})
                    elif event.kind == "message_end":
                        await self._send({"type": "message_end", "reference": event.reference})
                    elif event.kind == "error":
                        await self._send({"type": "error", "message": event.error or ""})
            except ServiceError as exc:
                await self._send({"type": "error", "message": exc.message})
            except Exception:
                logger.exception("agent %s: the run failed", self.agent_id)
                message = _("Something went wrong while running the agent. Try again.")
                await self._send({"type": "error", "message": message})
            await self._send({"type": "done"})
