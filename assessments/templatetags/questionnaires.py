from __future__ import annotations

from typing import Any

from django import template

from assessments.i18n import localized

register = template.Library()


@register.filter
def localize(texts: Any, language: str | None = None) -> str:
    """A three-language text in ``language`` (default: the active one)."""
    return localized(texts, language)


@register.filter
def open_assessment_for(assessments: Any, user: Any) -> Any:
    """The user's own open (draft or returned) assessment among prefetched ones, or None."""
    for assessment in assessments:
        if assessment.assessor_id == getattr(user, "pk", None) and assessment.is_editable:
            return assessment
    return None
