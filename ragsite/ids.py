"""Identifiers in the shapes RAGFlow clients expect."""

from __future__ import annotations

import uuid


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
