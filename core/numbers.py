"""Numbers as they arrive in JSON documents and in query strings."""

from __future__ import annotations

import math
from typing import Any


def is_number(value: Any, *, low: float, high: float) -> bool:
    """A finite JSON number within [low, high] (JSON allows Infinity and NaN; we do not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and low <= value <= high
    except OverflowError:  # an integer too large for a float
        return False


def spreadsheet_number(value: Any, digits: int | None = None) -> str:
    """A number as a spreadsheet reads it: 7 rather than 7.0; rounded to ``digits``
    places when given, which hides float noise (62.49999999999999) and nothing else."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, float):
        if digits is not None:
            value = round(value, digits)
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def whole_number(text: str | None) -> int | None:
    """A query or form value that is a plain whole number (ASCII digits only: ``int()``
    would also take "٣" or " 3"), or None."""
    return int(text) if text and text.isascii() and text.isdigit() else None
