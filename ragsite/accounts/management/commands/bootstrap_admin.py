"""Create the first superuser, `admin`, so a fresh `make run` can be logged into at once."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand

USERNAME = "admin"
PASSWORD_ENV = "RAGSITE_ADMIN_PASSWORD"
# ragsite.launcher reads these two prefixes to word its banner.
PASSWORD_LABEL = f"Password for {USERNAME} (shown only this once): "
EXISTS_MESSAGE = f'User "{USERNAME}" already exists; left unchanged.'


class Command(BaseCommand):
    help = (
        f"Create the superuser {USERNAME!r} if missing (password from ${PASSWORD_ENV} or random)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Create `admin` once; reveal the password only when this command made it up."""
        # Imported here so ragsite.launcher can import the constants above without settings.
        from ragsite.accounts.models import User

        if User.objects.filter(username=USERNAME).exists():
            self.stdout.write(EXISTS_MESSAGE)
            return
        password = os.environ.get(PASSWORD_ENV) or ""
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=USERNAME, email="", password=password)
        if generated:
            self.stdout.write(f'Created superuser "{USERNAME}".')
            self.stdout.write(PASSWORD_LABEL + password)
        else:
            self.stdout.write(
                f'Created superuser "{USERNAME}" with the password in ${PASSWORD_ENV}.'
            )
