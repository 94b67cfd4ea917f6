"""Django admin as ragsite's own: its name in the header and title, and every group and
column heading in the admin's language.

`RagsiteAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS, so `admin.site` (and
every `@admin.register`) is a `RagsiteAdminSite`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Groups whose app gives no translatable name: named here, in the admin's language.
_APP_NAMES = {"axes": _("Log-in attempts (django-axes)")}

# Strings of Django's and django-axes' admin that neither translates into Chinese; listed so
# `makemessages` keeps their translations in our catalog (which comes first, LOCALE_PATHS).
THIRD_PARTY_STRINGS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
)


class RagsiteAdminSite(admin.AdminSite):
    site_header = _("ragsite administration")
    site_title = _("ragsite admin")
    index_title = _("Knowledge bases, chats, agents and accounts")

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        for app in apps:
            if app["app_label"] in _APP_NAMES:
                app["name"] = _APP_NAMES[app["app_label"]]
        return apps


class RagsiteAdminConfig(AdminConfig):
    default_site = "ragsite.admin_site.RagsiteAdminSite"
