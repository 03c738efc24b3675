"""Names that are safe inside our own folders, whatever a partner called the file."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """ASCII letters, digits, `._-` only, no `..`, no leading dot, at most 150 characters."""
    cleaned = _UNSAFE.sub("_", name).replace("..", "_").lstrip(".")
    return cleaned[:150] or "naamloos"
