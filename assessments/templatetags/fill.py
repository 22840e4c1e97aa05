"""The fill page's redrawn pieces (``assessments.fill_fragments``), for its template."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from assessments import fill_fragments

register = template.Library()


@register.simple_tag
def fill_revision(item: dict[str, Any]) -> SafeString:
    return fill_fragments.revision_input(item)


@register.simple_tag
def fill_status(item: dict[str, Any], oob: Any = False) -> SafeString:
    return fill_fragments.status(item, bool(oob))


@register.simple_tag
def fill_missing_note(
    item: dict[str, Any], section: dict[str, Any], oob: Any = False
) -> SafeString:
    return fill_fragments.missing_note(item, section, bool(oob))


@register.simple_tag
def fill_progress(progress: dict[str, Any], checking: Any, oob: Any = False) -> SafeString:
    return fill_fragments.progress(progress, bool(checking), bool(oob))


@register.simple_tag
def fill_section_count(section: dict[str, Any], checking: Any, oob: Any = False) -> SafeString:
    return fill_fragments.section_count(section, bool(checking), bool(oob))


@register.simple_tag
def fill_saved(
    item: dict[str, Any], progress: dict[str, Any], section: dict[str, Any], checking: Any
) -> SafeString:
    return fill_fragments.saved(item, progress, section, bool(checking))
