"""manage.py create_api_key USERNAME [--name NAME] [--generation v0.22|v0.27]: the key is the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ragsite.accounts.models import Generation, User
from ragsite.accounts.services import api_key_create


class Command(BaseCommand):
    help = "Issue an API key for USERNAME. The key is printed once, as the last line of output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="A label for the key.")
        parser.add_argument(
            "--generation",
            choices=Generation.values,
            default=Generation.V0_27,
            help="The RAGFlow API generation of the key's clients (ragflow-sdk 0.22 or 0.27).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        key, raw = api_key_create(user=user, name=options["name"], generation=options["generation"])
        self.stderr.write(
            f"API key {key.prefix}… ({key.generation}) issued for {user.username}; "
            "it is not shown again."
        )
        self.stdout.write(raw)
