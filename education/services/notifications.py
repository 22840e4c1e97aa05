"""Notifications: written in their cause's transaction (the outbox), read, retried."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from education.models import (
    ActionType,
    EducationAction,
    EmailState,
    Notification,
)

log = logging.getLogger(__name__)


def notification_for(
    *,
    recipient: User | int,
    kind: str,
    key: str,
    action: EducationAction | None = None,
    params: dict[str, Any] | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> Notification:
    """An unsaved notification; write it with :func:`notifications_write`."""
    recipient_id = recipient if isinstance(recipient, int) else recipient.pk
    if email is None and isinstance(recipient, User):
        email = recipient.email
    has_email = bool(email)
    return Notification(
        recipient_id=recipient_id,
        kind=kind,
        idempotency_key=key,
        action=action,
        params=params or {},
        email_state=EmailState.PENDING if has_email else EmailState.SKIPPED,
        next_attempt_at=(now or timezone.now()) if has_email else None,
    )


def notifications_write(rows: Sequence[Notification], *, relay_soon: bool = True) -> None:
    """Write notifications in the caller's transaction; a key already written is skipped.

    ``relay_soon`` asks a worker to e-mail them once the transaction commits; without it
    (or if the broker is down) the dispatcher's next pass relays them anyway.
    """
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if relay_soon:
        from education.tasks import enqueue_relay

        transaction.on_commit(enqueue_relay, robust=True)


def notice_params(
    *,
    pk: int,
    title: str,
    template_title: Any,
    action_type: str,
    client_name: str,
    client_id: int,
    due_date: date,
) -> dict[str, Any]:
    """What a notification about an action shows, frozen at the time it was written: its
    own title, else the template's (three languages, shown in the reader's), else its type."""
    return {
        "action": pk,
        "title": title or template_title or str(dict(ActionType.choices).get(action_type, "")),
        "client": client_name,
        "client_id": client_id,
        "due_date": due_date.isoformat(),
        "action_type": action_type,
    }


def action_params(action: EducationAction) -> dict[str, Any]:
    return notice_params(
        pk=action.pk,
        title=action.title,
        template_title=action.template.title if action.template_id and action.template else {},
        action_type=action.action_type,
        client_name=action.client.name,
        client_id=action.client_id,
        due_date=action.due_date,
    )


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``ids`` is None)."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def notifications_retry(*, ids: Iterable[int]) -> int:
    """Queue failed e-mails again (an operator's action once the mail server is fixed)."""
    return Notification.objects.filter(pk__in=list(ids), email_state=EmailState.FAILED).update(
        email_state=EmailState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
