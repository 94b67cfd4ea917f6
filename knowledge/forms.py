"""Forms for the knowledge-base pages: they check shape; the dataset services decide and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.model_registry import embedding_models_for_choice
from knowledge.models import Dataset
from knowledge.parser_config import CHUNK_METHODS
from knowledge.services.datasets import NAME_MAX_BYTES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# RAGFlow's UI shows these names for its chunk methods ("naive" reads as "General" there).
CHUNK_METHOD_LABELS = {
    "naive": _("General"),
    "book": _("Book"),
    "email": _("Email"),
    "laws": _("Laws"),
    "manual": _("Manual"),
    "one": _("One (whole document)"),
    "paper": _("Paper"),
    "picture": _("Picture"),
    "presentation": _("Presentation"),
    "qa": _("Q&A"),
    "table": _("Table"),
    "tag": _("Tag"),
}


def chunk_method_label(method: str) -> str:
    """The human name of a chunk method, or the method itself if it has none."""
    return str(CHUNK_METHOD_LABELS.get(method, method))


def embedding_model_label(model_id: str) -> str:
    """A short name for `org/model@Factory` ids: "model (Factory)"; the full id goes in a tooltip."""
    name, _at, factory = model_id.partition("@")
    short = name.rsplit("/", 1)[-1]
    return f"{short} ({factory})" if factory else short


def _chunk_method_choices() -> list[tuple[str, StrOrPromise]]:
    return [(method, CHUNK_METHOD_LABELS.get(method, method)) for method in CHUNK_METHODS]


def _embedding_model_choices() -> list[tuple[str, str]]:
    return [(info.id, info.id) for info in embedding_models_for_choice()]


class DatasetForm(forms.Form):
    """A knowledge base's user-editable fields, for both creating and editing."""

    name = forms.CharField(label=_("Name"), max_length=255, strip=True)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    chunk_method = forms.ChoiceField(
        label=_("Chunk method"),
        initial="naive",
        help_text=_("How uploaded documents are split into chunks."),
    )
    embedding_model = forms.ChoiceField(
        label=_("Embedding model"),
        help_text=_("Can only change while the knowledge base has no chunks."),
    )
    permission = forms.ChoiceField(
        label=_("Who can see it"),
        choices=Dataset.Permission.choices,
        initial=Dataset.Permission.ME,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels sit above their fields, so Django's trailing colon only adds noise.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Choices are read per form, not at import, so the model registry can change at runtime.
        cast(forms.ChoiceField, self.fields["chunk_method"]).choices = _chunk_method_choices()
        embedding_choices = _embedding_model_choices()
        current = self.initial.get("embedding_model")
        if current and current not in {value for value, _label in embedding_choices}:
            # A dataset created through the API may use a model the UI does not offer; keep it.
            embedding_choices.append((current, current))
        cast(forms.ChoiceField, self.fields["embedding_model"]).choices = embedding_choices
        if embedding_choices and not current:
            self.initial["embedding_model"] = embedding_choices[0][0]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        size = len(name.encode("utf-8"))
        if size > NAME_MAX_BYTES:
            # RAGFlow counts bytes, not characters: a Chinese character takes three.
            raise forms.ValidationError(
                _(
                    "The name is too long: at most %(max)d bytes (about %(max)d Latin or "
                    "%(cjk)d Chinese characters), this one has %(size)d."
                ),
                code="max_bytes",
                params={"max": NAME_MAX_BYTES, "cjk": NAME_MAX_BYTES // 3, "size": size},
            )
        return name

    @classmethod
    def for_dataset(cls, dataset: Dataset, data: Any = None) -> DatasetForm:
        """A form pre-filled with `dataset`'s current values, so `changed_data` lists edits."""
        form = cls(
            data,
            initial={
                "name": dataset.name,
                "description": dataset.description or "",
                "chunk_method": dataset.chunk_method,
                "embedding_model": dataset.embedding_model,
                "permission": dataset.permission,
            },
            prefix=f"edit-{dataset.pk}",
        )
        # The form replaces the card the user just clicked "Edit" on: start typing right away.
        form.fields["name"].widget.attrs["autofocus"] = True
        return form
