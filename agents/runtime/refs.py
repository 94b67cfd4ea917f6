"""Variable references in DSL params: `{sys.query}`, `{env.x}`, `{begin@kb}`, `{Comp:Id@out}`."""

from __future__ import annotations

import re

# Anything without spaces or braces between braces; parse_ref decides whether it is a reference,
# so JSON snippets and ordinary braces in prompts stay literal.
TEMPLATE_REF = re.compile(r"\{\s*([^{}\s]+)\s*\}")

Ref = tuple[str, str, str]  # ("sys" | "env", full name, "") or ("cpn", component id, output)


def parse_ref(name: str) -> Ref | None:
    """The reference `name` stands for, or None when it is plain text."""
    if name.startswith(("sys.", "env.")) and len(name) > 4:
        return (name[:3], name, "")
    cpn_id, at, output = name.partition("@")
    if at and cpn_id and output and "@" not in output:
        return ("cpn", cpn_id, output)
    return None
