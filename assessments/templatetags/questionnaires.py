from __future__ import annotations

from typing import Any

from django import template

from assessments.i18n import localized

register = template.Library()


@register.filter
def localize(texts: Any, language: str | None = None) -> str:
    """A three-language text in ``language`` (default: the active one)."""
    return localized(texts, language)
