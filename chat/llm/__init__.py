"""Chat models behind one protocol: the built-in extractive model and OpenAI-compatible services.

Only the provider-neutral types are re-exported here; `chat.llm.registry` touches the ORM and is
imported explicitly where a model is looked up.
"""

from chat.llm.base import ChatModel, ChatModelError, ChatRequest, KnowledgeChunk, Message

__all__ = ["ChatModel", "ChatModelError", "ChatRequest", "KnowledgeChunk", "Message"]
