from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "ragsite.accounts"
    label = "accounts"
    verbose_name = _("Accounts and API keys")

    def ready(self) -> None:
        # Every Django process (web, worker, manage.py) makes the Celery app the current one
        # before any task is sent: `shared_task`s are bound to it (ragsite/__init__.py).
        import ragsite.celery  # noqa: F401
