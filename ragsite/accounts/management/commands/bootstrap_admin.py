"""Create the first superuser, `admin`, so a fresh `make run` can be logged into at once."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management.base import BaseCommand

from ragsite.accounts.bootstrap import EXISTS_MESSAGE, PASSWORD_ENV, PASSWORD_LABEL, USERNAME
from ragsite.accounts.models import User


class Command(BaseCommand):
    help = (
        f"Create the superuser {USERNAME!r} if missing (password from ${PASSWORD_ENV} or random)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Create `admin` once; reveal the password only when this command made it up."""
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
