"""Sections that apps above assessments add to an assessment's result page (the
client's view adds its perception gap): one registry, so the page needs no import of
them. Each section is a function of the assessment and the viewer that returns a
template and its context, or None when it has nothing to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Section = Callable[[Any, Any], tuple[str, dict[str, Any]] | None]

SECTIONS: list[Section] = []


def register(section: Section) -> Section:
    """Add a section (an app's ready() calls this); registering one twice keeps one."""
    if section not in SECTIONS:
        SECTIONS.append(section)
    return section


def sections_for(assessment: Any, user: Any) -> list[tuple[str, dict[str, Any]]]:
    return [shown for section in SECTIONS if (shown := section(assessment, user)) is not None]
