"""API key issue, lookup and revocation."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from ragsite.accounts.models import ApiKey, Generation, User

KEY_PREFIX = "ragflow-"
VISIBLE_PREFIX_LEN = 14  # "ragflow-" plus six random characters
# Recording every use would turn each API read into a write; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(raw_key: str) -> str:
    # The keys are 190 bits of randomness, so a fast unsalted hash is safe and allows an
    # indexed lookup (a slow salted hash would need a scan).
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def api_key_create(
    *, user: User, name: str = "", generation: str = Generation.V0_27
) -> tuple[ApiKey, str]:
    """Issue a key for `user`; returns the row and the clear key, which is never stored."""
    if generation not in Generation.values:
        raise ValueError(f"unknown API generation {generation!r}")
    raw = KEY_PREFIX + secrets.token_urlsafe(24)
    key = ApiKey.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=raw[:VISIBLE_PREFIX_LEN],
        digest=_digest(raw),
        generation=generation,
    )
    return key, raw


@dataclass(frozen=True)
class _KeyQuery:
    sql: str
    key_names: list[str]  # the attnames of the key's columns, in the order selected
    user_names: list[str]  # then its user's


@functools.cache
def _active_key_query() -> _KeyQuery:
    """`ApiKey.objects.select_related("user").filter(digest=…, revoked_at__isnull=True,
    user__is_active=True)` as SQL: the key's columns, then its user's, with their names."""
    quote = connection.ops.quote_name

    def column(field: Any) -> str:
        return quote(field.column)

    key_fields, user_fields = ApiKey._meta.concrete_fields, User._meta.concrete_fields
    selected = ", ".join(
        [f"k.{column(f)}" for f in key_fields] + [f"u.{column(f)}" for f in user_fields]
    )
    sql = (
        f"SELECT {selected} "  # noqa: S608 - names from the models
        f"FROM {quote(ApiKey._meta.db_table)} k JOIN {quote(User._meta.db_table)} u "
        f"ON u.{column(User._meta.pk)} = k.{column(ApiKey._meta.get_field('user'))} "
        "WHERE k.digest = %s AND k.revoked_at IS NULL AND u.is_active"
    )
    return _KeyQuery(sql, [f.attname for f in key_fields], [f.attname for f in user_fields])


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key `raw_key` (its user loaded), recording the use; None if unknown/revoked.

    Every API request starts here, so the lookup is SQL written once and read straight into
    the two models (no column of either needs a converter): 0.92 → 0.15 ms of CPU per call
    in-process, against the same query built by the ORM each time (its compilation was the
    cost).
    """
    query = _active_key_query()
    with connection.cursor() as cursor:
        cursor.execute(query.sql, [_digest(raw_key)])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(query.key_names)
    key = ApiKey.from_db(connection.alias, query.key_names, row[:split])
    key.user = User.from_db(connection.alias, query.user_names, row[split:])
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_revoke(*, user: User, key_id: int) -> bool:
    """Revoke one of `user`'s keys; False if it is not theirs or already revoked."""
    updated = ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return updated == 1


def api_key_list(*, user: User) -> list[ApiKey]:
    return list(ApiKey.objects.filter(user=user))
