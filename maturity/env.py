"""Typed readers for settings taken from the environment.

Each reader fails loudly (ImproperlyConfigured) on a value it cannot parse, so a typo
in a deployment stops the process at start-up instead of silently using a default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Read settings from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def get_str(self, name: str, default: str | None = None) -> str:
        value = self.environ.get(name)
        if value is None:
            if default is None:
                raise ImproperlyConfigured(f"The environment variable {name} is required.")
            return default
        return value

    def get_bool(self, name: str, default: bool) -> bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a boolean; use one of true/false, yes/no, on/off, 1/0."
        )

    def get_int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        return self._number(name, default, int, "a whole number", minimum)

    def get_float(self, name: str, default: float, *, minimum: float | None = None) -> float:
        return self._number(name, default, float, "a number", minimum)

    def _number[N: (int, float)](
        self, name: str, default: N, convert: type[N], what: str, minimum: N | None
    ) -> N:
        raw = self.environ.get(name)
        if raw is None:
            return default
        try:
            value = convert(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={raw!r} is not {what}.") from None
        if not math.isfinite(value):
            raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
        if minimum is not None and value < minimum:
            raise ImproperlyConfigured(f"{name}={value:g} must be at least {minimum:g}.")
        return value

    def get_list(self, name: str, default: list[str]) -> list[str]:
        raw = self.environ.get(name)
        if raw is None:
            return list(default)
        return [item.strip() for item in raw.split(",") if item.strip()]
