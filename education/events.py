"""What the education app's webhook events carry (webhooks.events lists the fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils import translation

from assessments.i18n import localized
from core import languages
from core.links import site_url
from education.models import ActionType, EducationAction


def action_data(
    *,
    pk: int,
    engagement_id: int,
    client_id: int,
    client_name: str,
    title: str,
    template_title: Any,
    action_type: str,
    status: str,
    owner_id: int | None,
    due_date: date,
    completed_at: datetime | None,
) -> dict[str, Any]:
    """An action as its events show it; the title in the product's source language (the
    action's own, else its template's, else its type's)."""
    with translation.override(languages.source()):
        shown = (
            title
            or localized(template_title, languages.source())
            or str(dict(ActionType.choices).get(action_type, action_type))
        )
    return {
        "action": pk,
        "engagement": engagement_id,
        "client": client_id,
        "client_name": client_name,
        "title": shown,
        "action_type": action_type,
        "status": status,
        "owner": owner_id,
        "due_date": due_date,
        "completed_at": completed_at,
        "url": site_url(reverse("clients:detail", args=[client_id]) + "#plan"),
    }


def action_data_of(action: EducationAction) -> dict[str, Any]:
    return action_data(
        pk=action.pk,
        engagement_id=action.engagement_id,
        client_id=action.client_id,
        client_name=action.client.name,
        title=action.title,
        template_title=action.template.title if action.template_id and action.template else {},
        action_type=action.action_type,
        status=action.status,
        owner_id=action.owner_id,
        due_date=action.due_date,
        completed_at=action.completed_at,
    )
