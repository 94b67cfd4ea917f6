"""Forms for the knowledge-base, document, chunk and retrieval pages: they check shape; the
services decide and write."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from knowledge.model_registry import embedding_models_for_choice
from knowledge.models import Chunk, Dataset, Document, ModelProvider
from knowledge.parser_config import CHUNK_METHODS
from knowledge.parsing.filetypes import SUPPORTED_SUFFIXES
from knowledge.parsing.options import DEFAULT_CHUNK_TOKEN_NUM
from knowledge.services.chunks import ChunkChanges
from knowledge.services.datasets import NAME_MAX_BYTES
from knowledge.services.documents import DOCUMENT_CHUNK_METHODS, DocumentChanges
from knowledge.services.documents import NAME_MAX_BYTES as DOCUMENT_NAME_MAX_BYTES

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


# --- documents --------------------------------------------------------------------------------

# The knowledge-graph and tag methods need dataset-level setup the settings dialog cannot give.
DOCUMENT_SETTINGS_METHODS = tuple(
    method for method in DOCUMENT_CHUNK_METHODS if method not in {"knowledge_graph", "tag"}
)
# Files whose chunk method the document service refuses to change (see document_update).
_FIXED_METHOD_SUFFIXES = {"ppt", "pptx", "pages"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe); returns a list."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single_clean = super().clean
        if isinstance(data, list | tuple) and data:
            return [single_clean(item, initial) for item in data]
        return [single_clean(data or None, initial)]  # None: "required" applies


class DocumentUploadForm(forms.Form):
    """Files to add to a knowledge base; whether they fit (type, content, size) is the service's call."""

    # `file`, repeated, as in the API's multipart uploads (and `files` is taken by Form).
    file = MultipleFileField(
        label=_("Files"),
        # An empty file is a valid upload (RAGFlow accepts it); it just has nothing to parse.
        allow_empty_file=True,
        error_messages={"required": _("Choose at least one file to upload.")},
    )
    parse = forms.BooleanField(label=_("Parse after upload"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        accept = ",".join(f".{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES))
        # The drop zone's label is the visible control; the input itself stays in the tab order.
        self.fields["file"].widget.attrs.update(
            {"accept": accept, "class": "dropzone__input", "data-upload-input": ""}
        )


def _escape_delimiter(delimiter: str) -> str:
    return delimiter.replace("\n", "\\n").replace("\t", "\\t")


class DocumentSettingsForm(forms.Form):
    """A document's name, chunk method and the two chunking options people change most."""

    name = forms.CharField(label=_("Name"), max_length=255, strip=True)
    chunk_method = forms.ChoiceField(
        label=_("Chunk method"),
        help_text=_("Changing it clears the document's chunks; parse it again afterwards."),
    )
    chunk_token_num = forms.IntegerField(
        label=_("Chunk size (tokens)"),
        min_value=1,
        max_value=2048,
        help_text=_("At most this many tokens per chunk, from 1 to 2048."),
    )
    delimiter = forms.CharField(
        label=_("Delimiters"),
        # Spaces and newlines can be delimiters too.
        strip=False,
        help_text=_(
            "Chunks are cut after any of these characters; \\n is a line break and "
            "`text in backticks` is one delimiter."
        ),
    )

    def __init__(self, *args: Any, document: Document, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "settings_%s")
        config = document.parser_config or {}
        kwargs["initial"] = {
            "name": document.name,
            "chunk_method": document.chunk_method,
            "chunk_token_num": config.get("chunk_token_num", DEFAULT_CHUNK_TOKEN_NUM),
            # A text box cannot show a newline: write it the way RAGFlow's UI does, as \\n.
            "delimiter": _escape_delimiter(config.get("delimiter") or "\\n"),
        }
        super().__init__(*args, **kwargs)
        method_field = cast(forms.ChoiceField, self.fields["chunk_method"])
        choices = [
            (method, CHUNK_METHOD_LABELS.get(method, method))
            for method in DOCUMENT_SETTINGS_METHODS
        ]
        if document.chunk_method not in DOCUMENT_SETTINGS_METHODS:
            # Set through the API to a method the dialog does not offer: keep showing it.
            choices.append((document.chunk_method, chunk_method_label(document.chunk_method)))
        method_field.choices = choices
        if document.type == "visual" or document.suffix in _FIXED_METHOD_SUFFIXES:
            method_field.disabled = True
            method_field.help_text = _("Images and slides are always parsed this way.")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        size = len(name.encode("utf-8"))
        if size > DOCUMENT_NAME_MAX_BYTES:
            raise forms.ValidationError(
                _("The name is too long: at most %(max)d bytes, this one has %(size)d."),
                code="max_bytes",
                params={"max": DOCUMENT_NAME_MAX_BYTES, "size": size},
            )
        return name

    def changes(self) -> DocumentChanges:
        """What the user changed, and nothing else, for `document_update`.

        Unchanged values stay out: the service refuses any chunk_method (even the same one) for
        images and slides, and a parser_config key sent needlessly would still be merged.
        """
        changed = set(self.changed_data)
        config: dict[str, Any] = {
            key: self.cleaned_data[key]
            for key in ("chunk_token_num", "delimiter")
            if key in changed
        }
        return DocumentChanges(
            name=self.cleaned_data["name"] if "name" in changed else None,
            chunk_method=self.cleaned_data["chunk_method"] if "chunk_method" in changed else None,
            parser_config=config or None,
        )


# --- chunks -----------------------------------------------------------------------------------

# Keywords are typed in one box: a comma (Latin or Chinese), an enumeration comma or a new line
# ends each. Questions often contain commas, so only a new line ends one of them.
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；\n]")


def split_keywords(text: str) -> list[str]:
    """`a, b，c\\nd` → ["a", "b", "c", "d"]: stripped, without blanks or repeats."""
    return list(dict.fromkeys(k.strip() for k in _KEYWORD_SEPARATORS.split(text) if k.strip()))


def split_lines(text: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


class ChunkForm(forms.Form):
    """A chunk's text, keywords and questions, for adding one by hand or editing one in place."""

    content = forms.CharField(
        label=_("Text"),
        # Kept as typed: leading spaces and blank lines can matter (code, tables, Q&A).
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write the chunk's text.")},
    )
    important_keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        help_text=_("Separated by commas or new lines. Keywords weigh more in keyword search."),
    )
    questions = forms.CharField(
        label=_("Questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "One per line. With questions, the chunk is found by what they mean instead of "
            "by its text."
        ),
    )

    def __init__(self, *args: Any, chunk: Chunk | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        if chunk is not None:
            # Several chunks can be edited at once: their fields need ids of their own.
            kwargs.setdefault("auto_id", f"chunk-{chunk.pk}-%s")
            kwargs["initial"] = {
                "content": chunk.content,
                "important_keywords": ", ".join(chunk.important_keywords),
                "questions": "\n".join(chunk.questions),
            }
        else:
            kwargs.setdefault("auto_id", "new-chunk-%s")
        super().__init__(*args, **kwargs)

    def clean_content(self) -> str:
        content: str = self.cleaned_data["content"]
        if not content.strip():
            raise forms.ValidationError(self.fields["content"].error_messages["required"])
        return content

    def clean_important_keywords(self) -> list[str]:
        return split_keywords(self.cleaned_data["important_keywords"])

    def clean_questions(self) -> list[str]:
        return split_lines(self.cleaned_data["questions"])

    def changes(self) -> ChunkChanges:
        """The edit for `chunk_update`: text, keywords and questions as the form has them."""
        return ChunkChanges(
            content=self.cleaned_data["content"],
            important_keywords=self.cleaned_data["important_keywords"],
            questions=self.cleaned_data["questions"],
        )


# --- retrieval testing ------------------------------------------------------------------------

# How many documents the filter lists, newest first; a knowledge base with more is searched
# whole or through the chunk browser.
RETRIEVAL_DOCUMENT_CHOICES = 1000


class RangeInput(forms.NumberInput):
    input_type = "range"


def rerank_model_choices() -> list[str]:
    """`name@factory` of every rerank model an enabled provider serves."""
    return [
        f"{name}@{provider.factory}"
        for provider in ModelProvider.objects.filter(enabled=True).order_by("factory")
        for name in provider.rerank_model_names()
    ]


class RetrievalTestForm(forms.Form):
    """A question and the knobs of retrieval, as the chat assistants and the API use them."""

    question = forms.CharField(
        label=_("Question"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # RAGFlow's vector_similarity_weight: 0 keyword only, 1 semantic only. The same label,
    # direction and value as in the chat assistant's settings (chat/forms.py).
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
    similarity_threshold = forms.FloatField(
        label=_("Similarity threshold"),
        min_value=0,
        max_value=1,
        widget=RangeInput(attrs={"step": "0.01"}),
        help_text=_("Chunks less similar than this are left out."),
    )
    top_n = forms.IntegerField(
        label=_("Top N"),
        min_value=1,
        max_value=100,
        initial=10,
        help_text=_("Show at most this many chunks."),
    )
    document_ids = forms.MultipleChoiceField(
        label=_("Only in these documents"),
        required=False,
        help_text=_("Ctrl-click (⌘-click on a Mac) to pick several. None picked: all of them."),
    )
    rerank_id = forms.ChoiceField(
        label=_("Rerank model"),
        required=False,
        help_text=_("Rescores the chunks found; its score stands in for the semantic one."),
    )

    def __init__(self, data: QueryDict | None = None, *, dataset: Dataset, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "retrieval-%s")
        defaults = {
            "vector_similarity_weight": dataset.vector_similarity_weight,
            "similarity_threshold": dataset.similarity_threshold,
            "top_n": self.base_fields["top_n"].initial,
        }
        kwargs["initial"] = {**defaults, **kwargs.get("initial", {})}
        if data is not None:
            # A link may carry only the question: what it leaves out takes the defaults.
            data = data.copy()
            for name, value in defaults.items():
                if not data.get(name):
                    data[name] = str(value)
        super().__init__(data, **kwargs)
        documents: list[tuple[str, str]] = list(
            Document.objects.filter(dataset=dataset)
            .order_by("-created_at", "pk")
            .values_list("pk", "name")[:RETRIEVAL_DOCUMENT_CHOICES]
        )
        documents.sort(key=lambda choice: choice[1].lower())
        documents_field = cast(forms.MultipleChoiceField, self.fields["document_ids"])
        documents_field.choices = documents
        documents_field.widget.attrs["size"] = str(max(3, min(6, len(documents))))
        rerank_models = rerank_model_choices()
        if rerank_models:
            cast(forms.ChoiceField, self.fields["rerank_id"]).choices = [
                ("", _("None")),
                *[(model, model) for model in rerank_models],
            ]
        else:
            # Nothing to choose from: the select would only confuse.
            del self.fields["rerank_id"]
        self.fields["question"].widget.attrs.update(
            {"placeholder": _("For example: How do I reset my password?")}
        )
        self.fields["top_n"].widget.attrs.update({"inputmode": "numeric"})

    @property
    def has_documents(self) -> bool:
        return bool(cast(forms.MultipleChoiceField, self.fields["document_ids"]).choices)
