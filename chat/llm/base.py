"""The chat model protocol and the plain data it speaks (no Django state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    """One earlier turn of the conversation."""

    role: str  # "user" | "assistant" | "system"
    content: str


@dataclass(frozen=True)
class KnowledgeChunk:
    """A retrieved passage; `index` is the n of its `[ID:n]` citation."""

    index: int
    content: str
    document_name: str


@dataclass
class ChatRequest:
    """Everything a model needs to answer one question."""

    system: str  # final system prompt, knowledge already inserted
    history: list[Message]  # earlier turns, oldest first (no system messages)
    question: str
    knowledge: list[KnowledgeChunk]  # what retrieval gave; [] for a chat without datasets
    quote: bool = True  # cite with [ID:n]
    temperature: float = 0.1
    top_p: float = 0.3
    max_tokens: int = 512
    presence_penalty: float = 0.4
    frequency_penalty: float = 0.7
    # Lets the extractive model tell "this chat has no datasets" from "retrieval found nothing";
    # generative models ignore it.
    has_datasets: bool = True
    # For the extractive model (generative models ignore both): the datasets' embedding model,
    # to compare sentences with the question ("" = terms only), and the one text to answer when
    # the knowledge does not answer (the chat's empty_response; "" = the built-in one).
    embedding_model: str = ""
    no_answer: str = ""


class ChatModelError(Exception):
    """The model could not answer; `message` is a sentence meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChatModel(Protocol):
    """A chat model that streams an answer as text deltas."""

    model_id: str  # "name@factory"
    extractive: bool  # True only for the built-in extractive model (the UI labels it)

    def stream(self, request: ChatRequest) -> AsyncIterator[str]: ...
