"""Identifiers in the shapes RAGFlow clients expect."""

from __future__ import annotations

import uuid
from collections.abc import Iterable


def new_id() -> str:
    """A uuid1 hex string: 32 lowercase hex characters, no dashes (contract §1.6)."""
    return uuid.uuid1().hex


def is_uuid1_hex(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return uuid.UUID(value).version == 1
    except ValueError:
        return False


def split_duplicates(ids: Iterable[object]) -> tuple[list[str], list[str]]:
    """(unique ids in first-seen order, ids given more than once), all as strings."""
    unique: dict[str, None] = {}
    duplicates: dict[str, None] = {}
    for raw in ids:
        key = str(raw)
        if key in unique:
            duplicates[key] = None
        else:
            unique[key] = None
    return list(unique), list(duplicates)
