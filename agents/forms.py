"""Agent forms: a template's questions (turned into a DSL) or a DSL pasted as JSON.

The forms check shape and build the services' typed arguments; `agent_create` / `agent_update`
validate the DSL itself and their messages name the component at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from agents.services.agents import AgentChanges
from agents.templates_library import Category, FaqEntry, faq_dsl, qa_dsl, triage_dsl
from chat.llm.registry import chat_model_choices, default_chat_model_id
from knowledge.models import Dataset
from ragsite.accounts.models import User

# agents.services.agents refuses a DSL naming a dataset its owner cannot search.
_NOT_OWNED = re.compile(r"You don't own the dataset (?P<id>.+)\.\Z", re.DOTALL)
CATEGORY_SLOTS = 3  # the triage template: two categories required, a third optional
FAQ_SLOTS = 4  # the FAQ template: one reply required, three more optional
DEFAULT_PROLOGUE = _("Hi! What would you like to know?")


@dataclass(frozen=True)
class DatasetOption:
    """One checkbox of a knowledge-base picker."""

    id: str
    name: str
    chunk_count: int
    owner: str  # "" for the user's own knowledge bases
    checked: bool


class AgentForm(forms.Form):
    """Title and description, which every way of making an agent asks for."""

    title = forms.CharField(label=_("Title"), max_length=255, strip=True)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the agent is for; shown on its card."),
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # Labels sit above their fields, so Django's trailing colon only adds noise.
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, **kwargs)

    def changes(self) -> AgentChanges:
        """What `agent_update` changes (`agent_create` takes the same three fields)."""
        data = self.cleaned_data
        return AgentChanges(
            title=data["title"], description=data["description"], dsl=self.build_dsl()
        )

    def build_dsl(self) -> dict[str, Any]:
        raise NotImplementedError

    def add_service_error(self, message: str) -> None:
        """Show a service's refusal next to the field it is about."""
        if message.startswith("Agent with title"):
            self.add_error("title", gettext("You already have an agent with this title."))
        elif message.startswith(("Invalid DSL", "The DSL")) and "dsl" in self.fields:
            self.add_error("dsl", message)
        elif (match := _NOT_OWNED.match(message)) and "dsl" in self.fields:
            # Someone else's knowledge base, or one deleted since: the API's words are RAGFlow's.
            text = gettext("The DSL names a knowledge base you cannot use: %(id)s.")
            self.add_error("dsl", text % {"id": match["id"]})
        elif match:
            self.add_error(
                None, gettext("One of the chosen knowledge bases is no longer available.")
            )
        else:
            self.add_error(None, message)


# --- a pasted DSL ------------------------------------------------------------------------------


class DslForm(AgentForm):
    """An agent from a DSL in JSON: imported from RAGFlow, or edited by hand."""

    dsl = forms.CharField(
        label=_("DSL (JSON)"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false", "class": "dsl-input"}),
        help_text=_(
            "The agent's components and how they connect, as RAGFlow exports it: an object "
            "whose “components” each have an “obj” (its component_name and params) and a "
            "“downstream” list."
        ),
    )

    @classmethod
    def for_agent(
        cls, agent: Agent, data: Any = None, *, dsl: dict[str, Any] | None = None
    ) -> DslForm:
        """The form filled in with `agent`; `dsl` replaces its DSL (e.g. reordered) if given."""
        return cls(
            data,
            initial={
                "title": agent.title,
                "description": agent.description or "",
                "dsl": pretty_json(agent.dsl if dsl is None else dsl),
            },
        )

    def clean_dsl(self) -> dict[str, Any]:
        return parse_dsl_text(self.cleaned_data["dsl"])

    def build_dsl(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.cleaned_data["dsl"])


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def parse_dsl_text(text: str) -> dict[str, Any]:
    """The DSL object in `text`; a ValidationError that says where the JSON breaks."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            gettext("This is not valid JSON: %(problem)s (line %(line)d, column %(column)d).")
            % {"problem": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc
    if not isinstance(value, dict):
        raise forms.ValidationError(gettext("The DSL must be a JSON object: {…}."))
    return value


# --- templates ---------------------------------------------------------------------------------


def _model_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Chat model"),
        help_text=_(
            "The built-in model is extractive: it quotes the passages that best answer the "
            "question and never writes new text."
        ),
    )


def _prologue_field() -> forms.CharField:
    return forms.CharField(
        label=_("Opener"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The agent's first message in every new conversation."),
    )


class TemplateForm(AgentForm):
    """A template's form; subclasses add the template's questions and build its DSL."""

    slug = ""
    prologue = _prologue_field()

    def __init__(
        self, data: Any = None, *, user: User, datasets: Sequence[Dataset], **kwargs: Any
    ) -> None:
        initial = {"prologue": DEFAULT_PROLOGUE, **kwargs.pop("initial", {})}
        super().__init__(data, initial=initial, **kwargs)
        self.user = user
        self.datasets = list(datasets)
        self._by_id = {d.pk: d for d in self.datasets}
        self.add_template_fields()
        for name, field in self.fields.items():
            if isinstance(field, forms.MultipleChoiceField):
                field.choices = [(d.pk, d.name) for d in self.datasets]
            elif name == "llm_id":
                cast(forms.ChoiceField, field).choices = chat_model_choices()
                self.initial.setdefault("llm_id", default_chat_model_id())

    def add_template_fields(self) -> None:
        """Fields that repeat per category or entry; added here since their number varies."""

    @property
    def pickers(self) -> dict[str, list[DatasetOption]]:
        """The options of every knowledge-base picker, by field name (for the template)."""
        return {
            name: self.dataset_options(name)
            for name, field in self.fields.items()
            if isinstance(field, forms.MultipleChoiceField)
        }

    def dataset_options(self, name: str) -> list[DatasetOption]:
        chosen = {str(i) for i in self[name].value() or []}
        return [
            DatasetOption(
                id=d.pk,
                name=d.name,
                chunk_count=d.chunk_count,
                owner="" if d.tenant_id == self.user.pk else d.tenant.get_username(),
                checked=d.pk in chosen,
            )
            for d in self.datasets
        ]

    def _check_one_embedding_model(self, name: str) -> None:
        # One Retrieval searches all its knowledge bases with one query vector.
        chosen = [self._by_id[i] for i in self.cleaned_data.get(name) or [] if i in self._by_id]
        if len({d.embedding_model.rsplit("@", 1)[0] for d in chosen}) > 1:
            self.add_error(
                name,
                gettext(
                    "These knowledge bases use different embedding models, so they cannot be "
                    "searched together; choose ones that share one."
                ),
            )


class QaForm(TemplateForm):
    slug = "qa"
    dataset_ids = forms.MultipleChoiceField(
        label=_("Knowledge bases"),
        error_messages={"required": _("Choose at least one knowledge base to answer from.")},
    )
    llm_id = _model_field()
    field_order = ["title", "description", "dataset_ids", "llm_id", "prologue"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self._check_one_embedding_model("dataset_ids")
        return cleaned

    def build_dsl(self) -> dict[str, Any]:
        data = self.cleaned_data
        return qa_dsl(
            dataset_ids=data["dataset_ids"], llm_id=data["llm_id"], prologue=data["prologue"]
        )


@dataclass(frozen=True)
class Slot:
    """The bound fields of one repeated group (a category, an FAQ entry) for the template."""

    number: int
    required: bool
    fields: dict[str, forms.BoundField]
    options: list[DatasetOption]


class TriageForm(TemplateForm):
    slug = "triage"
    llm_id = _model_field()

    def add_template_fields(self) -> None:
        for n in range(1, CATEGORY_SLOTS + 1):
            required = n <= 2
            self.fields[f"category_{n}_name"] = forms.CharField(
                label=_("Name"), max_length=60, required=required
            )
            self.fields[f"category_{n}_description"] = forms.CharField(
                label=_("What belongs here"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"category_{n}_examples"] = forms.CharField(
                label=_("Example questions"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("One per line."),
            )
            self.fields[f"category_{n}_datasets"] = forms.MultipleChoiceField(
                label=_("Knowledge bases"), required=False
            )

    @property
    def slots(self) -> list[Slot]:
        keys = ("name", "description", "examples", "datasets")
        return [
            Slot(
                number=n,
                required=n <= 2,
                fields={key: self[f"category_{n}_{key}"] for key in keys},
                options=self.dataset_options(f"category_{n}_datasets"),
            )
            for n in range(1, CATEGORY_SLOTS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        names: set[str] = set()
        for n in range(1, CATEGORY_SLOTS + 1):
            name = (cleaned.get(f"category_{n}_name") or "").strip()
            if not name:
                continue
            if name.lower() in names:
                self.add_error(f"category_{n}_name", gettext("Two categories have this name."))
            names.add(name.lower())
            if not cleaned.get(f"category_{n}_datasets"):
                self.add_error(
                    f"category_{n}_datasets",
                    gettext("Choose the knowledge bases this category answers from."),
                )
            else:
                self._check_one_embedding_model(f"category_{n}_datasets")
        return cleaned

    def categories(self) -> list[Category]:
        data = self.cleaned_data
        return [
            Category(
                name=data[f"category_{n}_name"].strip(),
                description=data[f"category_{n}_description"].strip(),
                examples=[
                    line.strip()
                    for line in data[f"category_{n}_examples"].splitlines()
                    if line.strip()
                ],
                dataset_ids=data[f"category_{n}_datasets"],
            )
            for n in range(1, CATEGORY_SLOTS + 1)
            if data.get(f"category_{n}_name", "").strip()
        ]

    def build_dsl(self) -> dict[str, Any]:
        data = self.cleaned_data
        return triage_dsl(
            categories=self.categories(), llm_id=data["llm_id"], prologue=data["prologue"]
        )


class FaqForm(TemplateForm):
    slug = "faq"
    default_answer = forms.CharField(
        label=_("Default reply"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Given when no keyword matches."),
    )

    def add_template_fields(self) -> None:
        for n in range(1, FAQ_SLOTS + 1):
            required = n == 1
            self.fields[f"faq_{n}_keywords"] = forms.CharField(
                label=_("Keywords"),
                required=required,
                widget=forms.TextInput(attrs={"placeholder": _("e.g. refund, money back")}),
            )
            self.fields[f"faq_{n}_answer"] = forms.CharField(
                label=_("Reply"), required=required, widget=forms.Textarea(attrs={"rows": 2})
            )
        self.initial.setdefault(
            "default_answer",
            gettext("Sorry, I can only answer a few common questions. Try other words."),
        )

    @property
    def slots(self) -> list[Slot]:
        return [
            Slot(
                number=n,
                required=n == 1,
                fields={key: self[f"faq_{n}_{key}"] for key in ("keywords", "answer")},
                options=[],
            )
            for n in range(1, FAQ_SLOTS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for n in range(1, FAQ_SLOTS + 1):
            keywords = _keywords(cleaned.get(f"faq_{n}_keywords") or "")
            answer = (cleaned.get(f"faq_{n}_answer") or "").strip()
            if keywords and not answer:
                self.add_error(f"faq_{n}_answer", gettext("Write the reply for these keywords."))
            elif answer and not keywords:
                self.add_error(f"faq_{n}_keywords", gettext("Give at least one keyword."))
        return cleaned

    def entries(self) -> list[FaqEntry]:
        data = self.cleaned_data
        return [
            FaqEntry(keywords=keywords, answer=data[f"faq_{n}_answer"].strip())
            for n in range(1, FAQ_SLOTS + 1)
            if (keywords := _keywords(data.get(f"faq_{n}_keywords") or ""))
        ]

    def build_dsl(self) -> dict[str, Any]:
        data = self.cleaned_data
        return faq_dsl(
            entries=self.entries(),
            default_answer=data["default_answer"].strip(),
            prologue=data["prologue"],
        )


def _keywords(text: str) -> list[str]:
    return list(dict.fromkeys(k.strip() for k in text.replace("，", ",").split(",") if k.strip()))


TEMPLATE_FORMS: dict[str, type[TemplateForm]] = {
    form.slug: form for form in (QaForm, TriageForm, FaqForm)
}


class MemoryForm(forms.Form):
    """A memory's settings on the Memory page; the services check the values (RAGFlow's rules)."""

    name = forms.CharField(label=_("Name"), max_length=128, strip=True)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    memory_type = forms.MultipleChoiceField(
        label=_("Memory types"),
        choices=[
            ("raw", _("Raw (every turn as said)")),
            ("semantic", _("Semantic (facts)")),
            ("episodic", _("Episodic (events)")),
            ("procedural", _("Procedural (how-tos)")),
        ],
        initial=["raw"],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Semantic, episodic and procedural memories are extracted by the chat model."),
    )
    embd_id = forms.ChoiceField(label=_("Embedding model"))
    llm_id = forms.ChoiceField(
        label=_("Chat model"),
        help_text=_(
            "Extracts memories from each turn. The built-in extractive model cannot: with it only "
            "raw messages are kept."
        ),
    )
    permissions = forms.ChoiceField(
        label=_("Permission"), choices=[("me", _("Only me")), ("team", _("My teams"))]
    )
    memory_size = forms.IntegerField(
        label=_("Size limit (bytes)"),
        min_value=1,
        max_value=10 * 1024 * 1024,
        initial=5 * 1024 * 1024,
        help_text=_("The oldest messages are forgotten first when the memory is full."),
    )
    temperature = forms.FloatField(
        label=_("Temperature"), min_value=0, max_value=1, initial=0.5, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from chat.llm.registry import chat_model_choices
        from knowledge.model_registry import embedding_models_for_choice

        embd = cast(forms.ChoiceField, self.fields["embd_id"])
        embd.choices = [(m.id, m.id) for m in embedding_models_for_choice()]
        llm = cast(forms.ChoiceField, self.fields["llm_id"])
        llm.choices = chat_model_choices()
