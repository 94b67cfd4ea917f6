"""Request models for chats and sessions: both RAGFlow generations' names and leniency.

RAGFlow v0.22 names a chat's settings by their API names (`avatar`, `llm`, `prompt`,
`show_quotation`); v0.27 by their storage names (`icon`, `llm_id`, `llm_setting`,
`prompt_config`, `top_n`, …). A body may use either, or both: each key is mapped to
`ChatChanges` on its own (contract R1/R2). Unknown keys are dropped, as RAGFlow does.
The refusals keep RAGFlow's codes and messages (102 for the chat rules), so the models raise
`DataError` from their validators instead of pydantic's 101 wording.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from chat.llm import Message
from chat.models import DEFAULT_EMPTY_RESPONSE, DEFAULT_OPENER
from chat.services.assistants import PROMPT_COLUMNS, PROMPT_RENAMES, ChatChanges
from chat.services.completions import ChatTurn, Question
from chat.services.errors import WordedError
from chat.services.sessions import SessionChanges
from ragsite.api.errors import ArgumentError, DataError
from ragsite.api.parsing import body_flag, validate

# The v0.22 names of a chat's settings; a body with one of them is a v0.22 body (R2).
API_NAMES = frozenset({"avatar", "llm", "prompt", "show_quotation"})

# What RAGFlow v0.27 fills in on create (contract §2.5).
V027_SYSTEM_PROMPT = (
    "You are an intelligent assistant. Please summarize the content of the dataset to answer "
    "the question. Please list the data in the dataset and answer in detail. When all dataset "
    'content is irrelevant to the question, your answer must include the sentence "The answer '
    'you are looking for is not found in the dataset!" Answers need to consider chat history.\n'
    "      Here is the knowledge base:\n      {knowledge}\n      The above is the knowledge base."
)
V027_PROMPT_CONFIG: dict[str, Any] = {
    "system": V027_SYSTEM_PROMPT,
    "prologue": DEFAULT_OPENER,
    "parameters": [{"key": "knowledge", "optional": False}],
    "empty_response": DEFAULT_EMPTY_RESPONSE,
    "quote": True,
    "tts": False,
    "refine_multiturn": True,
}
V027_COLUMNS: dict[str, Any] = {
    "similarity_threshold": 0.1,  # RAGFlow's code; its docs say 0.2
    "vector_similarity_weight": 0.3,
    "top_n": 6,
    "top_k": 1024,
    "rerank_id": "",
}


def _object(value: Any, name: str, *, period: bool = False) -> Any:
    if value is not None and not isinstance(value, dict):
        raise DataError(f"`{name}` should be an object{'.' if period else ''}")
    return value


def _no_duplicate_parameters(parameters: Any) -> None:
    if not isinstance(parameters, list):
        return
    seen: set[str] = set()
    for parameter in parameters:
        key = parameter.get("key") if isinstance(parameter, dict) else None
        if isinstance(key, str):
            if key in seen:
                raise DataError(f"`parameters` contains duplicate key: {key}")
            seen.add(key)


def _v027_prompt_config(sent: dict[str, Any] | None) -> dict[str, Any]:
    """A v0.27 create's prompt_config: missing keys filled, an optional `date` always added."""
    config = copy.deepcopy(sent or {})
    for key, value in V027_PROMPT_CONFIG.items():
        if key not in config or (key == "system" and not config[key]):
            config[key] = copy.deepcopy(value)
    parameters = config["parameters"] if isinstance(config["parameters"], list) else []
    if not any(isinstance(p, dict) and p.get("key") == "date" for p in parameters):
        parameters = [*parameters, {"key": "date", "optional": True}]
    config["parameters"] = parameters
    return config


class ChatIn(BaseModel):
    """POST, PUT or PATCH /chats[/{id}] in either generation's names."""

    model_config = ConfigDict(extra="ignore")

    name: Any = None
    description: Any = None
    tenant_id: Any = None
    dataset_ids: Any = None
    # v0.22 API names
    avatar: Any = None
    llm: dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    show_quotation: Any = None
    # v0.27 internal names
    icon: Any = None
    llm_id: Any = None
    tenant_llm_id: Any = None
    llm_setting: dict[str, Any] | None = None
    prompt_config: dict[str, Any] | None = None
    similarity_threshold: float | None = None
    vector_similarity_weight: float | None = None
    top_n: int | None = None
    top_k: int | None = None
    rerank_id: Any = None
    tenant_rerank_id: Any = None

    @field_validator("name", mode="before")
    @classmethod
    def _name_is_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise DataError("chat name must be a string")
        return value

    @field_validator("dataset_ids", mode="before")
    @classmethod
    def _dataset_ids_is_list(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, list):
            raise WordedError(
                "`dataset_ids` should be a list", v027="`dataset_ids` should be a list."
            )
        return value

    @field_validator("llm", "prompt", mode="before")
    @classmethod
    def _api_objects(cls, value: Any, info: Any) -> Any:
        return _object(value, info.field_name)

    @field_validator("llm_setting", "prompt_config", mode="before")
    @classmethod
    def _internal_objects(cls, value: Any, info: Any) -> Any:
        value = _object(value, info.field_name, period=True)
        if info.field_name == "prompt_config" and value is not None:
            _no_duplicate_parameters(value.get("parameters"))
        return value

    @field_validator("top_n", "top_k", mode="after")
    @classmethod
    def _counts(cls, value: int | None, info: Any) -> int | None:
        if value is not None and value < 0:
            raise DataError(f"`{info.field_name}` should be a non-negative integer")
        return value

    def _sent(self, key: str) -> bool:
        return key in self.model_fields_set

    @property
    def api_shaped(self) -> bool:
        """Whether the body uses a v0.22 API name (then v0.22's defaults and rules apply)."""
        return bool(self.model_fields_set & API_NAMES)

    def changes(self, *, creating: bool = False, patch: bool = False) -> ChatChanges:
        """The changes this body asks for.

        v0.22 names merge into the stored settings; v0.27's `llm_setting`/`prompt_config`
        replace them on PUT and merge on PATCH. A create without v0.22 names gets v0.27's
        defaults (contract §2.5).
        """
        if creating and self._sent("tenant_id"):
            raise DataError("`tenant_id` must not be provided.")
        api = self.api_shaped
        llm_id, llm_setting = self._llm()
        prompt_config, columns = self._prompt()
        v027_create = creating and not api
        if v027_create:
            llm_setting = llm_setting or {}
            prompt_config = _v027_prompt_config(prompt_config)
            columns = {**V027_COLUMNS, **columns}
        return ChatChanges(
            name=self._name(),
            description=self._text("description", creating),
            icon=self._icon(),
            dataset_ids=(
                [str(i) for i in self.dataset_ids or [] if i] if self._sent("dataset_ids") else None
            ),
            llm_id=llm_id,
            llm_setting=llm_setting,
            prompt_config=prompt_config,
            do_refer=(
                self.show_quotation in (True, 1, "1") if self._sent("show_quotation") else None
            ),
            merge=api or patch,
            check_parameters=api,
            **columns,
        )

    def _name(self) -> str | None:
        if not self._sent("name"):
            return None
        # Null: "required" on create, "cannot be empty" on update (the service says which).
        return self.name if isinstance(self.name, str) else ""

    def _text(self, key: str, creating: bool) -> str | None:
        value = getattr(self, key)
        if not self._sent(key) or (value is None and creating):
            return None
        return "" if value is None else str(value)

    def _icon(self) -> str | None:
        for key in ("icon", "avatar"):
            if self._sent(key):
                value = getattr(self, key)
                return "" if value is None else str(value)
        return None

    def _llm(self) -> tuple[str | None, dict[str, Any] | None]:
        """(llm_id, llm_setting) from `llm` (v0.22) and `llm_id`/`llm_setting` (v0.27)."""
        llm_id: str | None = None
        setting: dict[str, Any] | None = None
        if self.llm is not None:
            if "model_name" in self.llm:
                llm_id = self._model(self.llm["model_name"], "model_name")
            setting = {k: v for k, v in self.llm.items() if k != "model_name"}
        if self._sent("llm_id"):
            llm_id = self._model(self.llm_id, "llm_id")
        if self.tenant_llm_id is not None:
            tenant_llm_id = self._model(self.tenant_llm_id, "llm_id")
            if llm_id and tenant_llm_id and tenant_llm_id != llm_id:
                raise DataError("`llm_id` and `tenant_llm_id` must refer to the same model")
            llm_id = llm_id or tenant_llm_id
        if self.llm_setting is not None:
            setting = {**(setting or {}), **self.llm_setting}
        return llm_id, setting

    @staticmethod
    def _model(value: Any, name: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise DataError(f"`{name}` {value} doesn't exist")
        return value

    def _prompt(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(prompt_config, columns) from `prompt` (v0.22) and the v0.27 names."""
        config: dict[str, Any] | None = None
        columns: dict[str, Any] = {}
        if self.prompt is not None:
            config = {}
            for key, value in self.prompt.items():
                if key in PROMPT_COLUMNS:
                    columns[PROMPT_COLUMNS[key]] = _column(PROMPT_COLUMNS[key], value)
                else:
                    config[PROMPT_RENAMES.get(key, key)] = value
            _no_duplicate_parameters(config.get("parameters"))
            config = config or None  # only columns: prompt_config stays as it is
        if self.prompt_config is not None:
            config = {**(config or {}), **self.prompt_config}
        for column in ("similarity_threshold", "vector_similarity_weight", "top_n", "top_k"):
            if getattr(self, column) is not None:
                columns[column] = getattr(self, column)
        for key in ("rerank_id", "tenant_rerank_id"):
            if self._sent(key):
                value = getattr(self, key)
                columns["rerank_id"] = "" if value is None else str(value)
        return config, columns


def _column(column: str, value: Any) -> Any:
    """A v0.22 `prompt` value stored as a column, checked the way the API always has."""
    if column == "rerank_id":
        return "" if value is None else str(value)
    if column in ("top_n", "top_k"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DataError(f"`{column}` should be a non-negative integer")
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise DataError(f"`{column}` should be a number")
    return float(value)


def chat_in(body: dict[str, Any]) -> ChatIn:
    """The body as a ChatIn; type errors of the v0.27 numbers are 101 (pydantic's words)."""
    return validate(ChatIn, body, strict=False)


# --- sessions ---------------------------------------------------------------------------------


class SessionIn(BaseModel):
    """POST, PUT or PATCH /chats/{id}/sessions[/{sid}]."""

    model_config = ConfigDict(extra="ignore")

    name: Any = None
    user_id: Any = None

    def create_name(self) -> str:
        if "name" not in self.model_fields_set:
            return "New session"
        if not isinstance(self.name, str):
            raise WordedError("`name` can not be empty.", v027="`name` can not be empty")
        return self.name

    def given_user_id(self) -> str | None:
        return None if self.user_id is None else str(self.user_id)

    def changes(self, *, patch: bool) -> SessionChanges:
        """A rename; PUT (v0.22) may also re-assign `user_id`, PATCH ignores it."""
        name = None
        if "name" in self.model_fields_set:
            name = self.name if isinstance(self.name, str) else ""
        user_id = (
            None if patch or "user_id" not in self.model_fields_set else str(self.user_id or "")
        )
        return SessionChanges(name=name, user_id=user_id)


def session_in(body: dict[str, Any], *, updating: bool = False) -> SessionIn:
    """The body as a SessionIn; an update may not touch the conversation itself."""
    if updating:
        if "message" in body or "messages" in body:
            raise WordedError("`message` can not be change", v027="`messages` cannot be changed")
        if "reference" in body:
            raise WordedError("`reference` can not be change", v027="`reference` cannot be changed")
    return validate(SessionIn, body, strict=False)


# --- list queries -----------------------------------------------------------------------------

MAX_QUERY_IDS = 100


def query_ids(params: Any, name: str) -> list[str] | None:
    """A repeated (or comma-separated) id parameter; None when absent; at most 100 ids."""
    if name not in params:
        return None
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    ids = [part.strip() for value in values for part in str(value).split(",") if part.strip()]
    if len(ids) > MAX_QUERY_IDS:
        raise ArgumentError(f"{name} must contain at most {MAX_QUERY_IDS} IDs")
    return ids


# --- completions ------------------------------------------------------------------------------


def string_field(values: dict[str, Any], key: str) -> str | None:
    """An optional string field of a request body (None when absent or null), else 101."""
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        raise ArgumentError(f"`{key}` should be a string.")
    return value


QUESTION_KEYS = frozenset({"question", "stream", "session_id", "user_id", "name"})


def question_in(body: dict[str, Any]) -> Question:
    """POST /chats/{id}/completions the v0.22 way; unknown keys are answering options."""
    return Question(
        text=string_field(body, "question") or "",
        session_id=string_field(body, "session_id") or None,
        session_name=string_field(body, "name") or "New session",
        user_id=string_field(body, "user_id") or "",
        options={k: v for k, v in body.items() if k not in QUESTION_KEYS},
    )


_TRUE = frozenset({"1", "true", "yes", "on"})
# Per-call overrides of the chat's llm_setting (v0.27 §3.5, the OpenAI endpoint).
LLM_SETTING_KEYS = ("temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens")
TURN_KEYS = frozenset(
    {
        "messages",
        "question",
        "chat_id",
        "session_id",
        "conversation_id",
        "stream",
        "legacy",
        "pass_all_history_messages",
        "pass_all_history",
        "store_history_messages",
        "store_history",
        "llm_id",
        "user_id",
        "name",
        *LLM_SETTING_KEYS,
    }
)


def flag(value: Any, default: bool) -> bool:
    """v0.27's booleans: true/false, or "1/true/yes/on" (any case) as strings."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


def _first(body: dict[str, Any], *keys: str) -> Any:
    return next((body[key] for key in keys if key in body), None)


def content_text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of a list; None for anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return None


def _conversation(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The user/assistant messages, without leading assistant messages (RAGFlow drops both
    system messages and an opener the client echoes back)."""
    turns = [m for m in items if m.get("role") in ("user", "assistant")]
    while turns and turns[0].get("role") == "assistant":
        turns.pop(0)
    return turns


def _llm_overrides(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in LLM_SETTING_KEYS if body.get(key) is not None}


@dataclass(frozen=True)
class TurnIn:
    turn: ChatTurn
    stream: bool
    legacy: bool


def turn_in(body: dict[str, Any], *, chat_id: str | None = None) -> TurnIn:
    """POST /chat/completions (v0.27 §3.5); `chat_id` from the old path wins over the body's."""
    messages = body.get("messages")
    if messages is None:
        question = body.get("question")
        if question is None:
            raise ArgumentError("required argument are missing: messages")
        if not isinstance(question, str):
            raise ArgumentError("`question` should be a string.")
        messages = [{"role": "user", "content": question, "files": body.get("files")}]
    if not isinstance(messages, list) or not messages:
        raise ArgumentError("`messages` must be a non-empty list.")
    if not all(isinstance(m, dict) for m in messages):
        raise ArgumentError("Every item in `messages` must be an object.")
    if not all("role" in m and "content" in m for m in messages):
        raise ArgumentError("Every item in `messages` must include `role` and `content`.")
    turns = _conversation(messages)
    if not any(m.get("role") == "user" for m in turns):
        raise ArgumentError("`messages` must contain a user message.")
    if turns[-1].get("role") != "user":
        raise ArgumentError("The last message must be from user.")
    message_id = turns[-1].get("id")
    chat = chat_id if chat_id is not None else string_field(body, "chat_id")
    session = _first(body, "session_id", "conversation_id")
    if session is not None and not isinstance(session, str):
        raise ArgumentError("`session_id` should be a string.")
    llm_id = string_field(body, "llm_id")
    turn = ChatTurn(
        messages=[Message(str(m["role"]), content_text(m["content"]) or "") for m in turns],
        message_id=str(message_id) if message_id else uuid.uuid4().hex,
        chat_id=chat or None,
        session_id=session or None,
        pass_all_history=flag(_first(body, "pass_all_history_messages", "pass_all_history"), False),
        store_history=flag(_first(body, "store_history_messages", "store_history"), True),
        llm_id=llm_id or None,
        llm_setting=_llm_overrides(body),
        user_id=string_field(body, "user_id") or "",
        options={k: v for k, v in body.items() if k not in TURN_KEYS},
    )
    return TurnIn(
        turn, stream=flag(body.get("stream"), True), legacy=flag(body.get("legacy"), False)
    )


# --- OpenAI-compatible ------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenAIIn:
    turn: ChatTurn
    stream: bool
    model: str
    reference: bool
    metadata_fields: list[str] | None  # reference_metadata: None = not asked for; [] = all


def _extension(body: dict[str, Any], extra: dict[str, Any], key: str) -> Any:
    """An extension read at the top level or inside `extra_body` (the `openai` client merges
    its extra_body into the top level; raw clients send the object)."""
    return extra[key] if key in extra else body.get(key)


def openai_in(body: dict[str, Any], *, chat_id: str, v027: bool) -> OpenAIIn:
    """POST /openai/{chat_id}/chat/completions (`v027`, R5) or the old /chats_openai path.

    `model` and `messages` are checked to be present by the view, before authentication.
    """
    extra = body.get("extra_body")
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise DataError("extra_body must be an object.")
    messages = body.get("messages")
    if v027 and not isinstance(messages, list):
        raise DataError("messages must be an array.")
    if not isinstance(messages, list) or not messages:
        raise DataError("You have to provide messages.")
    items: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict):
            if v027:
                raise DataError("Each message must be an object.")
            continue
        text = content_text(message.get("content"))
        if text is None:
            if v027 and message.get("content") is not None:
                raise DataError("messages[].content must be a string or an array of content parts.")
            text = "" if message.get("content") is None else str(message.get("content"))
        items.append({"role": message.get("role"), "content": text})
    turns = _conversation(items)
    if not turns or turns[-1]["role"] != "user":
        raise DataError("The last content of this conversation is not from user.")
    metadata = _extension(body, extra, "reference_metadata")
    fields: list[str] | None = None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise DataError("reference_metadata must be an object.")
        if metadata.get("fields") is not None and not isinstance(metadata.get("fields"), list):
            raise DataError("reference_metadata.fields must be an array.")
        if flag(metadata.get("include"), False):
            fields = [str(f) for f in metadata.get("fields") or []]
    condition = _extension(body, extra, "metadata_condition")
    if condition is not None and not isinstance(condition, dict):
        raise DataError("metadata_condition must be an object.")
    model = str(body.get("model") or "")
    turn = ChatTurn(
        messages=[Message(str(m["role"]), str(m["content"])) for m in turns],
        message_id=uuid.uuid4().hex,
        chat_id=chat_id,
        pass_all_history=True,
        store_history=False,
        llm_id=model if v027 and model and model != "model" else None,
        llm_setting=_llm_overrides(body) if v027 else {},
        options={"metadata_condition": condition} if condition else {},
    )
    return OpenAIIn(
        turn,
        stream=flag(body.get("stream"), False) if v027 else body_flag(body.get("stream"), True),
        model=model,
        reference=flag(_extension(body, extra, "reference"), False),
        metadata_fields=fields,
    )
