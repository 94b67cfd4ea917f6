"""The assistant settings form: it checks shape and builds ChatChanges; the services decide."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.llm.registry import chat_model_choices, default_chat_model_id
from chat.models import Chat, default_prompt_config
from chat.services.assistants import ChatChanges
from knowledge.forms import rerank_model_choices
from knowledge.models import Dataset
from ragsite.accounts.models import User


class RangeInput(forms.NumberInput):
    input_type = "range"


@dataclass(frozen=True)
class DatasetOption:
    """One checkbox of the dataset picker; `pickable` is False for datasets without chunks."""

    id: str
    name: str
    chunk_count: int
    owner: str  # "" for the user's own datasets
    pickable: bool
    checked: bool


class ChatForm(forms.Form):
    """An assistant's settings, for both creating and editing."""

    name = forms.CharField(label=_("Name"), max_length=255, strip=True)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    dataset_ids = forms.MultipleChoiceField(label=_("Knowledge bases"), required=False)
    llm_id = forms.ChoiceField(label=_("Chat model"))
    system_prompt = forms.CharField(
        label=_("System prompt"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_(
            "Instructions for the model. {knowledge} marks where the passages found in the "
            "knowledge bases go; keep it in the prompt."
        ),
    )
    opener = forms.CharField(
        label=_("Opener"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The assistant's first message in every new conversation."),
    )
    empty_response = forms.CharField(
        label=_("Reply when nothing is found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Said when the knowledge bases have nothing relevant. Leave empty to let the model "
            "answer anyway."
        ),
    )
    similarity_threshold = forms.FloatField(
        label=_("Similarity threshold"),
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text=_("Passages scoring below this (0–1) are left out."),
    )
    # RAGFlow's vector_similarity_weight: 0 keyword only, 1 semantic only. The same label,
    # direction and value as on the retrieval test page (knowledge/forms.py).
    vector_similarity_weight = forms.FloatField(
        label=_("Keyword ↔ Semantic"),
        min_value=0,
        max_value=1,
        widget=RangeInput(attrs={"step": "0.01"}),
        help_text=_(
            "How much the meaning of the question counts against its exact words. "
            "Similarity is the weighted sum of the two."
        ),
    )
    top_n = forms.IntegerField(
        label=_("Passages per answer"),
        min_value=1,
        max_value=100,
        help_text=_("At most this many passages are given to the model (top N)."),
    )
    show_quote = forms.BooleanField(
        label=_("Show citations"),
        required=False,
        help_text=_("Mark the sentences of an answer with the passages they come from."),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        user: User,
        datasets: Sequence[Dataset],
        initial: dict[str, Any] | None = None,
    ) -> None:
        defaults = self.defaults()
        defaults.update(initial or {})
        # Labels sit above their fields, so Django's trailing colon only adds noise.
        super().__init__(data, initial=defaults, label_suffix="")
        self.user = user
        self.datasets = list(datasets)
        pickable = [d for d in self.datasets if d.chunk_count > 0]
        field = cast(forms.MultipleChoiceField, self.fields["dataset_ids"])
        field.choices = [(d.pk, d.name) for d in pickable]

        models = chat_model_choices()
        current = self.initial.get("llm_id")
        if current and current not in {value for value, _label in models}:
            # A provider was disabled since: keep the value visible; saving it will be refused.
            models.append((current, gettext("%(model)s (not available)") % {"model": current}))
        cast(forms.ChoiceField, self.fields["llm_id"]).choices = models

    @staticmethod
    def defaults() -> dict[str, Any]:
        config = default_prompt_config()
        return {
            "llm_id": default_chat_model_id(),
            "system_prompt": config["system"],
            "opener": config["prologue"],
            "empty_response": config["empty_response"],
            "similarity_threshold": 0.2,
            "vector_similarity_weight": 0.3,
            "top_n": 6,
            "show_quote": True,
        }

    @classmethod
    def for_chat(
        cls, chat: Chat, data: Any = None, *, user: User, datasets: Sequence[Dataset]
    ) -> ChatForm:
        config = chat.prompt_config
        return cls(
            data,
            user=user,
            datasets=datasets,
            initial={
                "name": chat.name,
                "description": chat.description,
                "dataset_ids": list(chat.dataset_ids),
                "llm_id": chat.llm_id,
                "system_prompt": config.get("system") or "",
                "opener": config.get("prologue") or "",
                "empty_response": config.get("empty_response") or "",
                "similarity_threshold": chat.similarity_threshold,
                "vector_similarity_weight": chat.vector_similarity_weight,
                "top_n": chat.top_n,
                "show_quote": bool(config.get("quote", True)),
            },
        )

    @property
    def dataset_options(self) -> list[DatasetOption]:
        """Every visible dataset, the ones without chunks shown but not pickable."""
        # The ticked ones: what was sent, or the chat's datasets before anything was.
        chosen = {str(i) for i in self["dataset_ids"].value() or []}
        return [
            DatasetOption(
                id=d.pk,
                name=d.name,
                chunk_count=d.chunk_count,
                owner="" if d.tenant_id == self.user.pk else d.tenant.get_username(),
                pickable=d.chunk_count > 0,
                checked=d.pk in chosen,
            )
            for d in self.datasets
        ]

    def to_changes(self) -> ChatChanges:
        """What chat_create / chat_update should set, in storage names."""
        data = self.cleaned_data
        return ChatChanges(
            name=data["name"],
            description=data["description"],
            dataset_ids=list(data["dataset_ids"]),
            llm_id=data["llm_id"],
            prompt_config={
                "system": data["system_prompt"],
                "prologue": data["opener"],
                "empty_response": data["empty_response"],
                "quote": data["show_quote"],
            },
            similarity_threshold=data["similarity_threshold"],
            vector_similarity_weight=data["vector_similarity_weight"],
            top_n=data["top_n"],
        )

    def add_service_error(self, message: str) -> None:
        """Show a service's refusal next to the field it is about, in the user's words."""
        field, text = _explain(message)
        self.add_error(field, text)


_PARAMETER = re.compile(r"Parameter '(?P<key>[^']+)' is not used")


def _explain(message: str) -> tuple[str | None, str]:
    # The services speak RAGFlow's English messages; the common ones get a field and a translation.
    if message.startswith("Duplicated chat name"):
        return "name", gettext("You already have an assistant with this name.")
    if message.startswith("You don't own the dataset"):
        return "dataset_ids", gettext("One of the chosen knowledge bases is no longer available.")
    if "doesn't own parsed file" in message:
        return "dataset_ids", gettext(
            "One of the chosen knowledge bases has no chunks yet: parse its documents first."
        )
    if message.startswith("Datasets use different embedding models"):
        return "dataset_ids", gettext(
            "The chosen knowledge bases use different embedding models; choose ones that share one."
        )
    if message.startswith("`model_name`"):
        return "llm_id", gettext("This chat model is not available. Choose another one.")
    if match := _PARAMETER.match(message):
        return "system_prompt", gettext(
            "The system prompt must contain {%(key)s}: it marks where that value goes."
        ) % {"key": match["key"]}
    return None, message


class SearchAppForm(forms.Form):
    """A search app's settings on the Search page: it checks shape and builds the app's
    `search_config` keys; the services decide."""

    name = forms.CharField(label=_("Name"), max_length=128, strip=True)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    dataset_ids = forms.MultipleChoiceField(
        label=_("Knowledge bases"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Searched for every question; all must use the same embedding model."),
    )
    rerank_id = forms.ChoiceField(
        label=_("Rerank"),
        required=False,
        help_text=_("Reorder the best chunks with a rerank model before showing them."),
    )
    highlight = forms.BooleanField(
        label=_("Highlight matches"),
        required=False,
        help_text=_("Mark the question's words in the results."),
    )
    summary = forms.BooleanField(
        label=_("Answer summary"),
        required=False,
        help_text=_("Above the results, a short answer written from them by the chat model."),
    )
    related_search = forms.BooleanField(
        label=_("Related questions"),
        required=False,
        help_text=_("Below the results, questions to search next."),
    )
    query_mindmap = forms.BooleanField(
        label=_("Mind map"),
        required=False,
        help_text=_("Beside the results, a mind map of what they say."),
    )
    chat_id = forms.ChoiceField(label=_("Chat model"))

    def __init__(self, data: Any = None, *, datasets: Sequence[Dataset], initial: Any = None):
        super().__init__(data, initial=initial, label_suffix="")
        field = cast(forms.MultipleChoiceField, self.fields["dataset_ids"])
        field.choices = [(d.pk, d.name) for d in datasets]
        reranks = rerank_model_choices()
        cast(forms.ChoiceField, self.fields["rerank_id"]).choices = [
            ("", gettext("Off")),
            *[(model, model) for model in reranks],
        ]
        self.has_rerank_models = bool(reranks)
        cast(forms.ChoiceField, self.fields["chat_id"]).choices = chat_model_choices()

    @classmethod
    def for_app(cls, app: Any, data: Any = None, *, datasets: Sequence[Dataset]) -> SearchAppForm:
        config = app.search_config or {}
        return cls(
            data,
            datasets=datasets,
            initial={
                "name": app.name,
                "description": app.description,
                "dataset_ids": list(config.get("kb_ids") or []),
                "rerank_id": config.get("rerank_id") or "",
                "highlight": bool(config.get("highlight")),
                "summary": bool(config.get("summary")),
                "related_search": bool(config.get("related_search")),
                "query_mindmap": bool(config.get("query_mindmap")),
                "chat_id": config.get("chat_id") or default_chat_model_id(),
            },
        )

    def search_config(self) -> dict[str, Any]:
        """The `search_config` keys the form sets (merged into the stored ones)."""
        data = self.cleaned_data
        return {
            "kb_ids": list(data["dataset_ids"]),
            "rerank_id": data["rerank_id"] or "",
            "highlight": data["highlight"],
            "summary": data["summary"],
            "related_search": data["related_search"],
            "query_mindmap": data["query_mindmap"],
            "chat_id": data["chat_id"],
        }
