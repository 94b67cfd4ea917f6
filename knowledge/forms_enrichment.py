"""The dataset page's LLM enrichment settings: chat model, auto keywords/questions, RAPTOR."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.enrichment.chat_model import enrichment_model_choices
from knowledge.models import Dataset


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [("", _("Default (first configured chat model)"))]
        choices += enrichment_model_choices()
        current = self.initial.get("llm_id")
        if current and current not in {value for value, _label in choices}:
            choices.append((current, current))
        cast(forms.ChoiceField, self.fields["llm_id"]).choices = choices

    @classmethod
    def for_dataset(cls, dataset: Dataset, data: Any = None) -> EnrichmentSettingsForm:
        config = dataset.parser_config or {}
        raptor = config.get("raptor") if isinstance(config.get("raptor"), dict) else {}

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
                "use_raptor": bool(raptor and raptor.get("use_raptor") is True),
            },
            prefix="enrichment",
        )
