"""Template helpers for education: reasons and notifications in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from assessments.i18n import localized
from assessments.labels import QUADRANTS
from clients.models import Phase
from education.messages import Text, text_of
from education.models import ActionType, Notification

register = template.Library()


@register.filter
def reason_text(reason: Any) -> str:
    """Why the playbook planned an action, e.g. "Weak: Governance (32)"."""
    if not isinstance(reason, dict):
        return ""
    kind, subject, value = reason.get("kind"), reason.get("subject", ""), reason.get("value")
    if kind == "weak_dimension":
        name = localized(reason.get("name")) or subject
        return _("Weak dimension: %(name)s (%(score)s)") % {
            "name": name,
            "score": f"{value:.0f}" if isinstance(value, int | float) else "—",
        }
    if kind == "perception_gap":
        name = localized(reason.get("name")) or subject
        gap = f"{value:+.1f}" if isinstance(value, int | float) else "—"
        if isinstance(value, int | float) and value < 0:
            return _("Perception gap: the client rates %(name)s %(gap)s levels below us") % {
                "name": name,
                "gap": gap.lstrip("-"),
            }
        return _("Perception gap: the client rates %(name)s %(gap)s levels above us") % {
            "name": name,
            "gap": gap.lstrip("+"),
        }
    if kind == "defensiveness_band":
        return _("Defensiveness %(index)s") % {
            "index": f"{value:.0f}" if isinstance(value, int | float) else "—"
        }
    if kind == "quadrant":
        return _("Quadrant: %(quadrant)s") % {"quadrant": QUADRANTS.get(subject, subject)}
    if kind == "phase":
        return _("Phase: %(phase)s") % {"phase": dict(Phase.choices).get(subject, subject)}
    return str(subject)


@register.filter
def notification_text(notification: Notification) -> Text:
    return text_of(notification)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def quadrant_label(code: str) -> str:
    return str(QUADRANTS.get(code, code))


@register.filter
def phase_label(code: str) -> str:
    return str(dict(Phase.choices).get(code, code))


@register.filter
def action_type_label(code: str) -> str:
    return str(dict(ActionType.choices).get(code, code))
