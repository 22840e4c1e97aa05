"""Notifications: written in their cause's transaction (the outbox), read, retried."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from core.tasks import publish_after_commit
from education import channels
from education.models import (
    ActionType,
    Delivery,
    DeliveryState,
    EducationAction,
    Notification,
)

log = logging.getLogger(__name__)


class Notice(NamedTuple):
    """A notification to write and the relayed channels it goes out through: to a user
    (``recipient``) or to a stakeholder through their ``invitation``."""

    recipient: int | None
    kind: str
    key: str
    action: int | None
    params: dict[str, Any]
    channels: tuple[str, ...]
    invitation: int | None = None


def notification_for(
    *,
    recipient: User | int,
    kind: str,
    key: str,
    action: EducationAction | None = None,
    params: dict[str, Any] | None = None,
    email: str | None = None,
) -> Notice:
    """A notification to write with :func:`notifications_write`, with the relayed channels
    that reach its recipient."""
    recipient_id = recipient if isinstance(recipient, int) else recipient.pk
    if email is None and isinstance(recipient, User):
        email = recipient.email
    return Notice(
        recipient_id,
        kind,
        key,
        action.pk if action is not None else None,
        params or {},
        channels.for_recipient(channels.Recipient(recipient_id, email or "")),
    )


def notification_to_stakeholder(*, invitation: Any, email: str, kind: str, key: str) -> Notice:
    """A notification to a client's stakeholder, about their ``invitation``: it goes out
    through the relayed channels that reach people outside the product (e-mail)."""
    return Notice(
        None, kind, key, None, {}, channels.for_stakeholder(email), invitation=invitation.pk
    )


def notifications_write(
    notices: Sequence[Notice], *, relay_soon: bool = True, now: datetime | None = None
) -> None:
    """Write notifications in the caller's transaction, their deliveries due at ``now``;
    a key already written is skipped.

    ``relay_soon`` asks a worker to send them once the transaction commits; without it
    (or if the broker is down) the dispatcher's next pass relays them anyway.
    """
    if not notices:
        return
    notices_write(notices, now or timezone.now())
    if relay_soon:
        # Here, not at the top: tasks imports the services it runs.
        from education.tasks import enqueue_relay

        publish_after_commit(enqueue_relay)


def notices_write(notices: Sequence[Notice], moment: datetime, *, set_based: bool = True) -> None:
    """Insert notifications and their deliveries (due at ``moment``); a key already
    written is skipped with its deliveries. One statement on PostgreSQL (``set_based``;
    the ORM's three elsewhere, and when tests compare the two)."""
    if not notices:
        return
    if connection.vendor == "postgresql" and set_based:
        _insert_set(notices, moment)
        return
    keys = [n.key for n in notices]
    known = set(
        Notification.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    fresh = {n.key: n for n in notices if n.key not in known}
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=n.recipient,
                invitation_id=n.invitation,
                kind=n.kind,
                idempotency_key=n.key,
                action_id=n.action,
                params=n.params,
            )
            for n in fresh.values()
        ],
        ignore_conflicts=True,
    )
    ids = Notification.objects.filter(idempotency_key__in=list(fresh)).values_list(
        "idempotency_key", "id"
    )
    Delivery.objects.bulk_create(
        [
            Delivery(notification_id=pk, channel=name, next_attempt_at=moment)
            for key, pk in ids
            for name in fresh[key].channels
        ],
        ignore_conflicts=True,
    )


def _insert_set(notices: Sequence[Notice], moment: datetime) -> None:
    """The notifications, then a delivery per channel of each row actually inserted."""
    columns: list[list[Any]] = [[], [], [], [], [], [], []]
    for n in notices:
        for column, value in zip(
            columns,
            (
                n.recipient,
                n.invitation,
                n.kind,
                n.key,
                n.action,
                json.dumps(n.params),
                ",".join(n.channels),
            ),
            strict=True,
        ):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH v AS (
                SELECT DISTINCT ON (key) *
                  FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[],
                              %s::bigint[], %s::text[], %s::text[])
                       AS v (recipient, invitation, kind, key, action, params, channels)
            ), written AS (
                INSERT INTO education_notification
                       (recipient_id, invitation_id, kind, idempotency_key, action_id, params,
                        created_at)
                SELECT recipient, invitation, kind, key, action, params::jsonb, %s FROM v
                    ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id, idempotency_key
            )
            INSERT INTO education_delivery
                   (notification_id, channel, state, attempts, next_attempt_at, last_error)
            SELECT written.id, c.channel, %s, 0, %s, ''
              FROM written
              JOIN v ON v.key = written.idempotency_key
             CROSS JOIN unnest(string_to_array(v.channels, ',')) AS c (channel)
            """,
            [*columns, moment, DeliveryState.PENDING, moment],
        )


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
    """Queue the notifications' failed deliveries again (an operator's action once the
    mail server, say, is fixed); the number of deliveries queued."""
    return _requeue(Delivery.objects.filter(notification__in=list(ids)))


def deliveries_retry(*, ids: Iterable[int]) -> int:
    """Queue failed deliveries again, from their first attempt."""
    return _requeue(Delivery.objects.filter(pk__in=list(ids)))


def _requeue(deliveries: QuerySet[Delivery]) -> int:
    return deliveries.filter(state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
