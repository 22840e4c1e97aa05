"""Checks that the Portuguese and Spanish catalogues are complete and compiled.

Pure functions over .po/.mo files (via polib), used by ``manage.py check_translations``
and by the test suite, so a missing translation fails CI instead of showing English to a
Brazilian account manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polib

from core import languages


@dataclass(frozen=True)
class CatalogueProblem:
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def catalogue_paths(locale_dir: Path, locales: tuple[str, ...] | None = None) -> list[Path]:
    """The catalogue of every translated language (``core.languages``), or of ``locales``."""
    chosen = languages.translated_locales() if locales is None else locales
    return [locale_dir / code / "LC_MESSAGES" / "django.po" for code in chosen]


def _as_dict(entries: polib._BaseFile) -> dict[tuple[str, str], str | dict[int, str]]:
    catalogue: dict[tuple[str, str], str | dict[int, str]] = {}
    for entry in entries:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
            continue
        key = (entry.msgctxt or "", entry.msgid)
        catalogue[key] = dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
    return catalogue


def problems_in(po_path: Path) -> list[CatalogueProblem]:
    """Untranslated or fuzzy entries, and a .mo that does not match its .po."""
    if not po_path.exists():
        return [CatalogueProblem(po_path, "catalogue is missing")]
    po = polib.pofile(str(po_path))
    problems = [
        CatalogueProblem(po_path, f"untranslated: {entry.msgid!r}")
        for entry in po.untranslated_entries()
    ]
    problems += [
        CatalogueProblem(po_path, f"fuzzy (needs review): {entry.msgid!r}")
        for entry in po.fuzzy_entries()
    ]
    problems += [
        CatalogueProblem(po_path, f"plural form empty: {entry.msgid!r}")
        for entry in po.translated_entries()
        if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]
    mo_path = po_path.with_suffix(".mo")
    if not mo_path.exists():
        problems.append(CatalogueProblem(mo_path, "not compiled: run `make translations`"))
    elif _as_dict(polib.mofile(str(mo_path))) != _as_dict(po):
        problems.append(CatalogueProblem(mo_path, "out of date: run `make translations`"))
    return problems


def compile_catalogue(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return mo_path
