"""A small world of every record a bulk delete or a fuzzer can touch, for one tenant."""

from __future__ import annotations

from agents.models import Agent, AgentSession
from agents.services.agents import agent_create
from agents.services.agents import session_create as agent_session_create
from agents.templates_library import qa_dsl
from chat.llm.registry import BUILTIN_EXTRACTIVE
from chat.models import Chat, ChatSession
from chat.services.assistants import ChatChanges, chat_create
from chat.services.sessions import session_create
from knowledge.models import Chunk, Dataset, Document
from knowledge.services.chunks import chunk_add
from knowledge.services.datasets import dataset_create
from ragsite.accounts.models import User

FACTS = [
    "The walrus colony on Kolguev island was counted at 4312 animals in 2019.",
    "Rivers of the tundra freeze from October to June.",
    "Arctic terns migrate from pole to pole every year.",
]


class World:
    """Three of everything a bulk delete can remove, for one tenant."""

    def __init__(self, tenant: User) -> None:
        self.tenant = tenant
        self.dataset = dataset_create(tenant=tenant, name="Field notes")
        self.documents = [
            Document.objects.create(
                dataset=self.dataset, tenant=tenant, name=f"n{i}.txt", type="doc", suffix="txt"
            )
            for i in range(3)
        ]
        self.chunks = [chunk_add(document=self.documents[0], content=fact) for fact in FACTS]
        self.chats = [
            chat_create(tenant=tenant, changes=ChatChanges(name=f"Chat {i}")) for i in range(3)
        ]
        self.sessions = [session_create(chat=self.chats[0], name=f"S{i}") for i in range(3)]
        dsl = qa_dsl(dataset_ids=[self.dataset.pk], llm_id=BUILTIN_EXTRACTIVE, prologue="Hi.")
        self.agent = agent_create(tenant=tenant, title="Agent", dsl=dsl)
        for _ in range(3):
            agent_session_create(agent=self.agent, user_id=tenant.pk, inputs={})

    def counts(self) -> dict[str, int]:
        """How many rows of each kind this tenant has."""
        tenant = self.tenant
        return {
            "datasets": Dataset.objects.filter(tenant=tenant).count(),
            "documents": Document.objects.filter(dataset__tenant=tenant).count(),
            "chunks": Chunk.objects.filter(dataset__tenant=tenant).count(),
            "chats": Chat.objects.filter(tenant=tenant, status="1").count(),
            "sessions": ChatSession.objects.filter(chat__tenant=tenant).count(),
            "agent_sessions": AgentSession.objects.filter(tenant=tenant).count(),
            "agents": Agent.objects.filter(tenant=tenant).count(),
        }

    def bulk_deletes(self) -> list[tuple[str, str, str]]:
        """(route, ids key, one id) for every bulk-delete route."""
        ds, doc = self.dataset.pk, self.documents[0].pk
        return [
            ("/api/v1/datasets", "ids", ds),
            (f"/api/v1/datasets/{ds}/documents", "ids", self.documents[1].pk),
            (f"/api/v1/datasets/{ds}/documents/{doc}/chunks", "chunk_ids", self.chunks[0].pk),
            ("/api/v1/chats", "ids", self.chats[1].pk),
            (f"/api/v1/chats/{self.chats[0].pk}/sessions", "ids", self.sessions[0].pk),
            (
                f"/api/v1/agents/{self.agent.pk}/sessions",
                "ids",
                AgentSession.objects.first().pk,  # type: ignore[union-attr]
            ),
        ]
