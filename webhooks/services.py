"""Every write of webhooks: endpoints (made, changed, deleted, their secret rotated), events
recorded in their cause's transaction, test events and replays. The relay that sends them
is ``webhooks.relay``."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.sql import one_line, prepared_cursor
from core.tasks import publish_after_commit
from webhooks.events import EVENT_TYPES, TEST_EVENT, EventType
from webhooks.models import SECRET_PREFIX, Delivery, DeliveryState, Endpoint, Event
from webhooks.tasks import enqueue_send
from webhooks.transport import url_problem


def secret_new() -> str:
    """A signing secret as Standard Webhooks writes it: ``whsec_`` and 32 random bytes in
    base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _clean(*, url: str, event_types: Iterable[str], description: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if not url:
        errors["url"] = [_("Enter the URL that receives the events.")]
    elif len(url) > 500:
        errors["url"] = [_("The URL is longer than 500 characters.")]
    elif problem := url_problem(url):
        errors["url"] = [problem]
    chosen = list(dict.fromkeys(event_types))
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        errors["event_types"] = [
            _("Unknown event type: %(types)s.") % {"types": ", ".join(map(str, unknown))}
        ]
    elif not chosen:
        errors["event_types"] = [_("Choose at least one event type.")]
    if len(description or "") > 200:
        errors["description"] = [_("At most 200 characters.")]
    if errors:
        raise ValidationError(errors)
    ordered = [name for name in EVENT_TYPES if name in chosen]  # the registry's order
    return {"url": url, "event_types": ordered, "description": (description or "").strip()}


def endpoint_create(
    *,
    url: str,
    event_types: Iterable[str],
    by: User,
    description: str = "",
    is_active: bool = True,
) -> Endpoint:
    """A new endpoint with a fresh secret (the caller shows it once)."""
    fields = _clean(url=url, event_types=event_types, description=description)
    return Endpoint.objects.create(
        **fields, is_active=is_active, secret=secret_new(), created_by=by
    )


def endpoint_update(
    *,
    endpoint: Endpoint,
    by: User,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Endpoint:
    """Change what is given. Turning a disabled endpoint on again forgets its failures:
    what is still pending is sent at once."""
    fields = _clean(
        url=endpoint.url if url is None else url,
        event_types=endpoint.event_types if event_types is None else event_types,
        description=endpoint.description if description is None else description,
    )
    for name, value in fields.items():
        setattr(endpoint, name, value)
    update = [*fields, "updated_at"]
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        update.append("is_active")
        if is_active:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
            endpoint.consecutive_failures = 0
            update += ["disabled_at", "disabled_reason", "failing_since", "consecutive_failures"]
    with transaction.atomic():
        endpoint.save(update_fields=update)
        if "is_active" in update and endpoint.is_active:
            now = timezone.now()
            endpoint.deliveries.filter(state=DeliveryState.PENDING).update(next_attempt_at=now)
            _send_soon()
    return endpoint


def endpoint_delete(*, endpoint: Endpoint, by: User) -> None:
    """The endpoint goes, with its deliveries and their log; events stay for the others."""
    endpoint.delete()


def endpoint_secret_rotate(*, endpoint: Endpoint, by: User, now: datetime | None = None) -> str:
    """A new secret, returned to be shown once. The old one also signs for
    ``WEBHOOK_SECRET_GRACE_HOURS``, so the receiver can switch without missing a message."""
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.WEBHOOK_SECRET_GRACE_HOURS)
    endpoint.secret = secret_new()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint.secret


def _payload(kind: EventType, data: dict[str, Any], now: datetime) -> str:
    if set(data) != set(kind.fields):
        # A programming error, not the user's: the documented fields are the contract.
        raise ValueError(
            f"{kind.name} carries {sorted(kind.fields)}, not {sorted(data)}",
        )
    payload = {
        "type": kind.name,
        "version": kind.version,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)


# The events and a delivery of each to every active endpoint that subscribes to its type,
# as two CTEs (``event``, ``delivery``) whatever their number: recorded alone (_RECORD), the
# cause's transaction pays one round trip, whether anyone listens or not; riding in the
# cause's own statement (a first submit's, see record_params), none. Their text never
# changes (the events arrive as arrays), so a statement holding them is prepared once per
# connection.
RECORD_CTES = """
    event AS (
        INSERT INTO webhooks_event (id, type, version, payload, created_at)
        SELECT id, type, version, payload, %s::timestamptz
        FROM unnest(%s::uuid[], %s::varchar[], %s::smallint[], %s::jsonb[])
             AS e (id, type, version, payload)
        RETURNING id, type, created_at
    ), delivery AS (
        INSERT INTO webhooks_delivery (event_id, endpoint_id, state, attempts,
                                       next_attempt_at, created_at, last_error)
        SELECT event.id, endpoint.id, 'pending', 0, event.created_at, event.created_at, ''
        FROM event JOIN webhooks_endpoint endpoint
          ON endpoint.is_active AND endpoint.event_types @> jsonb_build_array(event.type)
        RETURNING 1
    )"""
RECORD_COUNT = "(SELECT count(*) FROM delivery)"  # how many deliveries they made
_RECORD = one_line(f"WITH {RECORD_CTES} SELECT {RECORD_COUNT}")


def record_params(events: list[tuple[str, dict[str, Any]]], now: datetime) -> list[Any]:
    """RECORD_CTES' parameters for ``events``, ``(type, data)`` pairs. A statement they
    ride in reads RECORD_COUNT and hands it to events_recorded."""
    kinds = [EVENT_TYPES[type] for type, _data in events]
    return [
        now,
        [uuid.uuid4() for _ in events],
        [kind.name for kind in kinds],
        [kind.version for kind in kinds],
        [_payload(kind, data, now) for kind, (_t, data) in zip(kinds, events, strict=True)],
    ]


def events_recorded(deliveries: int) -> None:
    """After events were recorded and made ``deliveries``: the relay is asked to send
    them once the transaction commits (beat's pass finds them anyway if the broker is
    down)."""
    if deliveries:
        _send_soon()


def events_record(events: list[tuple[str, dict[str, Any]]], *, now: datetime | None = None) -> int:
    """Record events — ``(type, data)`` pairs — in the caller's transaction (the outbox),
    each queued for every active endpoint subscribed to its type; returns how many
    deliveries that made (see events_recorded)."""
    if not events:
        return 0
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        kinds = [EVENT_TYPES[type] for type, _data in events]
        deliveries = _record_portably(kinds, [data for _type, data in events], now)
    else:
        with prepared_cursor() as cursor:
            cursor.execute(_RECORD, record_params(events, now))
            (deliveries,) = cursor.fetchone()
    events_recorded(deliveries)
    return deliveries


def _record_portably(kinds: list[EventType], datas: list[dict[str, Any]], now: datetime) -> int:
    """The same through the ORM, where the database is not PostgreSQL (the embedded run)."""
    rows = Event.objects.bulk_create(
        Event(
            type=kind.name,
            version=kind.version,
            payload=json.loads(_payload(kind, data, now)),
            created_at=now,
        )
        for kind, data in zip(kinds, datas, strict=True)
    )
    listening = list(Endpoint.objects.filter(is_active=True).only("pk", "event_types"))
    deliveries = Delivery.objects.bulk_create(
        Delivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
        for event in rows
        for endpoint in listening
        if event.type in endpoint.event_types
    )
    return len(deliveries)


def event_record(type: str, data: dict[str, Any], *, now: datetime | None = None) -> int:
    """One event: see :func:`events_record`."""
    return events_record([(type, data)], now=now)


def endpoint_test(*, endpoint: Endpoint, by: User) -> Delivery:
    """A ``webhook.test`` event to this endpoint alone, sent like any other."""
    if not endpoint.is_active:
        raise ValidationError(_("Turn the endpoint on to send it a test event."))
    now = timezone.now()
    data = {
        "endpoint": endpoint.pk,
        "message": _("A test event sent by %(user)s from Maturity.")
        % {"user": by.get_full_name() or by.get_username()},
    }
    with transaction.atomic():
        event = Event.objects.create(
            type=TEST_EVENT.name,
            version=TEST_EVENT.version,
            payload=json.loads(_payload(TEST_EVENT, data, now)),
            created_at=now,
        )
        delivery = Delivery.objects.create(
            event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
        )
        _send_soon()
    return delivery


def delivery_replay(*, delivery: Delivery, by: User) -> Delivery:
    """Send a delivery again, whatever became of it: a new run of attempts (the receiver
    deduplicates by ``webhook-id``, which stays the same)."""
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PENDING, next_attempt_at=now, first_attempt_at=None
        )
        _send_soon()
    delivery.refresh_from_db()
    return delivery


def endpoint_replay_since(*, endpoint: Endpoint, since: datetime, by: User) -> int:
    """Send the endpoint again every event of its types recorded since ``since`` (at most
    ``WEBHOOK_REPLAY_MAX``, the oldest first), including those made while it was off;
    returns how many."""
    now = timezone.now()
    if since > now:
        raise ValidationError({"since": [_("Choose a moment in the past.")]})
    events = list(
        Event.objects.filter(type__in=endpoint.event_types, created_at__gte=since)
        .order_by("created_at")
        .values_list("pk", flat=True)[: settings.WEBHOOK_REPLAY_MAX]
    )
    with transaction.atomic():
        again = Delivery.objects.filter(endpoint=endpoint, event_id__in=events).update(
            state=DeliveryState.PENDING, next_attempt_at=now, first_attempt_at=None
        )
        had = set(
            Delivery.objects.filter(endpoint=endpoint, event_id__in=events).values_list(
                "event_id", flat=True
            )
        )
        new = Delivery.objects.bulk_create(
            Delivery(event_id=pk, endpoint=endpoint, next_attempt_at=now, created_at=now)
            for pk in events
            if pk not in had
        )
        if events:
            _send_soon()
    return again + len(new)


def _send_soon() -> None:
    publish_after_commit(enqueue_send)
