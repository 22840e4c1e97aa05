"""What text can be stored: PostgreSQL's text and jsonb hold neither NUL nor half of a
broken character (a lone UTF-16 surrogate, which JSON can carry as ``"\\ud800"``)."""

from __future__ import annotations

from typing import Any


def has_lone_surrogate(value: Any) -> bool:
    """Whether ``value`` is a string holding a lone surrogate (it cannot be UTF-8)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
