"""Forms for the account pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from ragsite.accounts.models import Generation


class _NoLabelSuffix:
    """Labels sit above their fields, so Django's trailing colon only adds noise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(_NoLabelSuffix, auth_forms.AuthenticationForm):
    pass


class PasswordChangeForm(_NoLabelSuffix, auth_forms.PasswordChangeForm):
    pass


class ApiKeyCreateForm(_NoLabelSuffix, forms.Form):
    """An optional label, so a user can tell their keys apart later."""

    name = forms.CharField(
        label=_("Name (optional)"),
        max_length=100,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. laptop script")}),
    )
    generation = forms.ChoiceField(
        label=_("Client API"),
        choices=Generation.choices,
        initial=Generation.V0_27,
        required=False,  # older pages and scripts post only a name: the current generation
        help_text=_(
            "Pick the ragflow-sdk your program uses: a few answers differ between RAGFlow "
            "v0.22 and v0.27 (for example the shape of the chat list)."
        ),
    )
