from django.apps import AppConfig


class ChatConfig(AppConfig):
    verbose_name = "Chat assistants"
    name = "chat"
