"""The dataset page's LLM enrichment settings: chat model, auto keywords/questions, RAPTOR and
the knowledge graph (`parser_config.raptor` and `parser_config.graphrag`)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.enrichment.chat_model import enrichment_model_choices
from knowledge.models import Dataset
from knowledge.parser_config import DEFAULT_ENTITY_TYPES, RAPTOR_PROMPT

MAX_ENTITY_TYPES = 20
GRAPH_METHODS = {"light": _("Light"), "general": _("General")}
MAX_ENTITY_TYPE_CHARS = 50


class EnrichmentSettingsForm(forms.Form):
    llm_id = forms.ChoiceField(
        label=_("Chat model"),
        required=False,
        help_text=_("Writes keywords, questions and summaries for this knowledge base."),
    )
    auto_keywords = forms.IntegerField(
        label=_("Auto keywords per chunk"),
        min_value=0,
        max_value=32,
        initial=0,
        help_text=_(
            "While parsing, the chat model adds this many keywords to each chunk; keyword "
            "search weighs them above the text. 0 turns it off."
        ),
    )
    auto_questions = forms.IntegerField(
        label=_("Auto questions per chunk"),
        min_value=0,
        max_value=10,
        initial=0,
        help_text=_(
            "While parsing, the chat model writes this many questions each chunk answers; "
            "search matches them, and they shape the chunk's vector. 0 turns it off."
        ),
    )
    toc_extraction = forms.BooleanField(
        label=_("Table of contents"),
        required=False,
        help_text=_(
            "While parsing, each document keeps its sections (from its headings, or written by "
            "the chat model when it has none). A search or chat with the table-of-contents "
            "option then adds the chunks of the sections that match the question."
        ),
    )
    use_raptor = forms.BooleanField(
        label=_("RAPTOR summaries"),
        required=False,
        help_text=_(
            "Clusters similar chunks and has the chat model summarise each cluster, then the "
            "summaries, layer by layer. The summaries are searchable chunks, which helps "
            "questions whose answer is spread over several passages. Build them below once "
            "the documents are parsed."
        ),
    )

    raptor_scope = forms.ChoiceField(
        required=False,
        label=_("RAPTOR scope"),
        choices=[
            ("file", _("Each document on its own")),
            ("dataset", _("The whole knowledge base")),
        ],
        initial="file",
        help_text=_(
            "Per document, summaries join passages of one file; over the whole knowledge base "
            "they can join facts that sit in different files."
        ),
    )
    raptor_max_cluster = forms.IntegerField(
        required=False,
        label=_("RAPTOR most clusters per layer"),
        min_value=1,
        max_value=1024,
        initial=64,
        help_text=_("At most this many summaries are written per layer and unit."),
    )
    raptor_threshold = forms.FloatField(
        required=False,
        label=_("RAPTOR cluster threshold"),
        min_value=0.0,
        max_value=1.0,
        initial=0.1,
        help_text=_(
            "A passage joins every cluster it belongs to with at least this probability; "
            "lower puts passages into more summaries."
        ),
    )
    raptor_max_token = forms.IntegerField(
        required=False,
        label=_("RAPTOR summary length (tokens)"),
        min_value=1,
        max_value=2048,
        initial=256,
        help_text=_("The longest answer asked of the chat model for one summary."),
    )
    raptor_prompt = forms.CharField(
        label=_("RAPTOR prompt"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What the chat model is asked for each cluster; {cluster_content} stands for its "
            "passages (they are appended when it is missing). Empty restores the default."
        ),
    )
    graph_method = forms.ChoiceField(
        required=False,
        label=_("Knowledge graph method"),
        choices=list(GRAPH_METHODS.items()),
        initial="light",
        help_text=_(
            "Light (LightRAG's prompt) also gives each relation keywords and costs fewer "
            "tokens; General (Microsoft GraphRAG's prompt) asks for fuller descriptions."
        ),
    )
    graph_entity_types = forms.CharField(
        required=False,
        label=_("Entity types"),
        initial=", ".join(DEFAULT_ENTITY_TYPES),
        max_length=MAX_ENTITY_TYPES * (MAX_ENTITY_TYPE_CHARS + 2),
        help_text=_(
            "Comma-separated kinds of things the chat model looks for in each chunk; an "
            "entity gets one of them. Empty restores the default."
        ),
    )
    graph_resolution = forms.BooleanField(
        label=_("Entity resolution"),
        required=False,
        help_text=_(
            "Asks the chat model whether entities of one type with alike names are the same "
            '("Harland Yard" and "Harland Yards") and merges them, so facts about one thing '
            "from different documents meet in the graph. Costs a few calls more."
        ),
    )
    graph_community = forms.BooleanField(
        label=_("Community reports"),
        required=False,
        help_text=_(
            "Groups closely related entities into communities (Louvain) and has the chat model "
            "write a report of each; a question's knowledge-graph chunk includes the report of "
            "its entities' community. One call per community."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("", _("Default (first configured chat model)"))]
        choices += enrichment_model_choices()
        current = self.initial.get("llm_id")
        if current and current not in {value for value, _label in choices}:
            choices.append((current, current))
        cast(forms.ChoiceField, self.fields["llm_id"]).choices = choices
        stored = self.initial.get("graph_method")
        if stored and stored not in GRAPH_METHODS:
            # A method set through the API (v0.27's "ner") stays selectable.
            methods: list[tuple[str, Any]] = [*GRAPH_METHODS.items(), (stored, stored)]
            cast(forms.ChoiceField, self.fields["graph_method"]).choices = methods

    def clean_graph_entity_types(self) -> list[str]:
        types: list[str] = []
        for part in self.cleaned_data["graph_entity_types"].split(","):
            name = " ".join(part.split())
            if name and name.lower() not in {t.lower() for t in types}:
                types.append(name)
        if not types:
            return list(DEFAULT_ENTITY_TYPES)
        if len(types) > MAX_ENTITY_TYPES:
            raise forms.ValidationError(
                _("At most %(count)d entity types.") % {"count": MAX_ENTITY_TYPES}
            )
        if any(len(t) > MAX_ENTITY_TYPE_CHARS for t in types):
            raise forms.ValidationError(
                _("An entity type has at most %(count)d characters.")
                % {"count": MAX_ENTITY_TYPE_CHARS}
            )
        return types

    def clean_raptor_prompt(self) -> str:
        return self.cleaned_data["raptor_prompt"].strip() or RAPTOR_PROMPT

    def parser_config(self) -> dict[str, Any]:
        """The `parser_config` keys this form sets (merged into the dataset's config); a
        setting left out of the post (None, "") keeps its stored value."""
        data = self.cleaned_data
        config: dict[str, Any] = {
            "auto_keywords": data["auto_keywords"],
            "auto_questions": data["auto_questions"],
            "toc_extraction": data["toc_extraction"],
            "raptor": {
                "use_raptor": data["use_raptor"],
                "scope": data["raptor_scope"],
                "max_cluster": data["raptor_max_cluster"],
                "threshold": data["raptor_threshold"],
                "max_token": data["raptor_max_token"],
                "prompt": data["raptor_prompt"],
            },
            "graphrag": {
                "method": data["graph_method"],
                "entity_types": data["graph_entity_types"],
                "resolution": data["graph_resolution"],
                "community": data["graph_community"],
            },
        }
        for key in ("raptor", "graphrag"):
            config[key] = {k: v for k, v in config[key].items() if v not in (None, "")}
        return config

    @classmethod
    def for_dataset(cls, dataset: Dataset, data: Any = None) -> EnrichmentSettingsForm:
        config = dataset.parser_config or {}
        raptor: dict[str, Any] = config["raptor"] if isinstance(config.get("raptor"), dict) else {}
        graph: dict[str, Any] = (
            config["graphrag"] if isinstance(config.get("graphrag"), dict) else {}
        )

        def count(key: str) -> int:
            value = config.get(key)
            return (
                int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
            )

        return cls(
            data,
            initial={
                "llm_id": dataset.llm_id,
                "auto_keywords": count("auto_keywords"),
                "auto_questions": count("auto_questions"),
                "toc_extraction": config.get("toc_extraction") is True,
                "use_raptor": bool(raptor and raptor.get("use_raptor") is True),
                "raptor_scope": raptor.get("scope") or "file",
                "raptor_max_cluster": raptor.get("max_cluster") or 64,
                "raptor_threshold": (
                    raptor["threshold"] if isinstance(raptor.get("threshold"), int | float) else 0.1
                ),
                "raptor_max_token": raptor.get("max_token") or 256,
                "raptor_prompt": raptor.get("prompt") or RAPTOR_PROMPT,
                "graph_method": graph.get("method") or "light",
                "graph_entity_types": ", ".join(
                    str(t) for t in graph.get("entity_types") or DEFAULT_ENTITY_TYPES
                ),
                "graph_resolution": graph.get("resolution") is True,
                "graph_community": graph.get("community") is True,
            },
            prefix="enrichment",
        )
