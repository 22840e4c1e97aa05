"""Texts stored in every language at once.

Questionnaire texts are data, not code, so gettext cannot translate them: each is stored
as ``{"en": …, "pt-br": …, "es": …}`` (one key per language of ``settings.LANGUAGES``) and
shown in the request's language, falling back to the source language.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation

from core import languages


def localized(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    if not texts:
        return ""
    source = languages.source()
    language = (language or translation.get_language() or source).lower()
    return texts.get(language) or texts.get(language.split("-")[0]) or texts.get(source) or ""


def missing_languages(texts: object) -> list[str]:
    """Which of the languages a text lacks (all of them if it is not a mapping)."""
    if not isinstance(texts, Mapping):
        return list(languages.codes())
    return [code for code in languages.codes() if not str(texts.get(code) or "").strip()]
