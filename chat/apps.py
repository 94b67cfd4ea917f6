from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    verbose_name = _("Chat assistants")
    name = "chat"
