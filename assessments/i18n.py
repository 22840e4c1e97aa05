"""Texts stored in three languages at once.

Questionnaire texts are data, not code, so gettext cannot translate them: each is stored
as ``{"en": …, "pt-br": …, "es": …}`` and shown in the request's language, falling back to
English.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation

LANGUAGES = ("en", "pt-br", "es")


def localized(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    if not texts:
        return ""
    language = (language or translation.get_language() or "en").lower()
    return texts.get(language) or texts.get(language.split("-")[0]) or texts.get("en") or ""


def missing_languages(texts: object) -> list[str]:
    """Which of the three languages a text lacks (all three if it is not a mapping)."""
    if not isinstance(texts, Mapping):
        return list(LANGUAGES)
    return [code for code in LANGUAGES if not str(texts.get(code) or "").strip()]
