"""A scripted chat model for tests of code that streams answers (STYLE §3.6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from chat.llm.base import ChatModelError, ChatRequest


class ScriptedChatModel:
    """Yields the given deltas in order, then raises `error` if one is set; records requests."""

    extractive = False

    def __init__(
        self,
        deltas: Sequence[str],
        *,
        model_id: str = "scripted@Test",
        error: ChatModelError | None = None,
    ) -> None:
        self.model_id = model_id
        self.deltas = list(deltas)
        self.error = error
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        """Yield the scripted deltas, letting other coroutines run between them."""
        self.requests.append(request)
        for delta in self.deltas:
            yield delta
            await asyncio.sleep(0)
        if self.error is not None:
            raise self.error
