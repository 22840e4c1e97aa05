"""The product's languages: one list, ``settings.LANGUAGES``, and what is derived from it.

Every other list of languages (the texts a questionnaire or playbook must carry, the
language picker, the playbook template form's fields, the catalogues that must be
complete) is read from here at call time, so a fourth language is a line in the settings,
a catalogue and data — no code.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def codes() -> tuple[str, ...]:
    """Language codes, the source language first (``en``, ``pt-br``, ``es``)."""
    return tuple(code for code, _name in settings.LANGUAGES)


def source() -> str:
    """The language the code's messages are written in (no catalogue of its own)."""
    return str(settings.LANGUAGE_CODE)


def translated_locales() -> tuple[str, ...]:
    """The locales whose catalogues must be complete: every language but the source."""
    return tuple(translation.to_locale(code) for code in codes() if code != source())


def native_name(code: str) -> str:
    """A language's name in itself, capitalised: what a language picker shows."""
    name = translation.get_language_info(code)["name_local"]
    return name[:1].upper() + name[1:]


def name(code: str) -> str:
    """A language's name in the reader's language (from ``settings.LANGUAGES``)."""
    return str(dict(settings.LANGUAGES)[code])


def listed() -> str:
    """``en, pt-br and es``: for messages that name every language a text needs."""
    items = codes()
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
