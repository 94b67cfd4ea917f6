"""Names a user's new record takes when the one asked for is in use."""

from __future__ import annotations

from collections.abc import Iterable


def free_name(name: str, taken: Iterable[str]) -> str:
    """RAGFlow's `duplicate_name`: `name` if it is not `taken`, else name(1), name(2), …"""
    used = set(taken)
    if name not in used:
        return name
    number = 1
    while f"{name}({number})" in used:
        number += 1
    return f"{name}({number})"
