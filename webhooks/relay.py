"""The webhook relay: due deliveries claimed one at a time, signed, sent, and their outcome
recorded — retried with exponential backoff and jitter for ``WEBHOOK_RETRY_HOURS``, the
endpoint disabled (and directors told) after a long run of failures.

A delivery is claimed with a lease (its next attempt moved past the request's time limit)
in its own short transaction, and sent outside any transaction: a slow receiver holds no
lock and no connection. A worker killed mid-request leaves the lease to expire, and the
delivery is sent again (at least once; receivers deduplicate by ``webhook-id``).
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.models import SECRET_PREFIX, Attempt, Delivery, DeliveryState, Endpoint, Event
from webhooks.signals import endpoint_disabled
from webhooks.transport import Answer, Refused, post

log = logging.getLogger(__name__)

USER_AGENT = "Maturity-Webhooks/1"


@dataclass
class SendReport:
    delivered: int = 0
    failed: int = 0
    gave_up: int = 0
    disabled: int = 0


def body_of(event: Event) -> bytes:
    """The request body: the stored payload, the same bytes on every attempt."""
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(endpoint: Endpoint, event: Event, body: bytes, now: datetime) -> dict[str, str]:
    """Standard Webhooks' headers. During a rotation's grace period the old secret signs
    too (two signatures, space-separated), so either verifies."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        secrets.append(endpoint.previous_secret)
    for secret in secrets:
        # A secret no key decrypts is read as stored (the field's choice): never sign
        # with that.
        if not secret.startswith(SECRET_PREFIX):
            raise ImproperlyConfigured(
                f"The signing secret of webhook endpoint {endpoint.pk} cannot be decrypted "
                "with SECRET_KEY or SECRET_KEY_FALLBACKS: keep the key it was stored under "
                "in SECRET_KEY_FALLBACKS until `manage.py reencrypt_secrets` has run."
            )
    signatures = [Webhook(secret).sign(event.webhook_id, now, body) for secret in secrets]
    return {
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: WEBHOOK_RETRY_SECONDS doubled each time, at most 12
    hours, give or take a fifth (so endpoints that failed together do not retry together)."""
    base = settings.WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(base, 12 * 3600) * random.uniform(0.8, 1.2))


def deliveries_send(
    *, max_deliveries: int | None = None, budget_seconds: float | None = None
) -> SendReport:
    """Send due deliveries until none is due, ``max_deliveries`` were tried, or the pass's
    time (``WEBHOOK_PASS_SECONDS``) is up."""
    report = SendReport()
    seconds = settings.WEBHOOK_PASS_SECONDS if budget_seconds is None else budget_seconds
    deadline = time.monotonic() + seconds
    tried = 0
    while max_deliveries is None or tried < max_deliveries:
        if time.monotonic() >= deadline:
            break
        delivery_id = _claim()
        if delivery_id is None:
            break
        tried += 1
        delivery_send(delivery_id, report)
    return report


def _claim() -> int | None:
    """The next due delivery of an active endpoint, leased to this worker: its next attempt
    is moved ``WEBHOOK_LEASE_SECONDS`` ahead (past the request's time limit), so no other
    worker takes it meanwhile."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        delivery_id = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if delivery_id is None:
            return None
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=lease)
    return delivery_id


def delivery_send(delivery_id: int, report: SendReport | None = None) -> Attempt:
    """One attempt of a claimed delivery, recorded."""
    report = report or SendReport()
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    started = timezone.now()
    body = body_of(event)
    try:
        answer = post(endpoint.url, body, signed_headers(endpoint, event, body, started))
    except Refused as refused:
        answer = Answer(None, 0, "", f"refused: {refused}"[:500])
    with transaction.atomic():
        return _record(delivery, answer, started, report)


def _record(leased: Delivery, answer: Answer, started: datetime, report: SendReport) -> Attempt:
    """Log the attempt and decide what comes next — if the delivery is still this worker's.
    A request that outlived its lease (a receiver slower than every timeout, a worker
    paused) finds the delivery taken by another worker, perhaps already delivered: its
    attempt is logged, and the other worker's decision stands."""
    now = timezone.now()
    delivery = Delivery.objects.select_for_update().get(pk=leased.pk)
    delivery.attempts += 1
    attempt = Attempt.objects.create(
        delivery=delivery,
        endpoint_id=delivery.endpoint_id,
        number=delivery.attempts,
        started_at=started,
        status_code=answer.status,
        latency_ms=answer.latency_ms,
        error=answer.error[:500],
        response_excerpt=answer.excerpt[:1000],
    )
    if (
        delivery.state != DeliveryState.PENDING
        or delivery.next_attempt_at != leased.next_attempt_at
    ):
        delivery.save(update_fields=["attempts"])
        return attempt
    delivery.first_attempt_at = delivery.first_attempt_at or started
    delivery.last_status = answer.status
    delivery.last_error = answer.error[:500]
    endpoints = Endpoint.objects.filter(pk=delivery.endpoint_id)
    if answer.ok:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        # Only when there is a run to end: a write on every success would queue the
        # workers sending to one endpoint behind each other's commits on its row.
        endpoints.filter(Q(consecutive_failures__gt=0) | Q(failing_since__isnull=False)).update(
            consecutive_failures=0, failing_since=None
        )
        report.delivered += 1
    else:
        delay = retry_delay(delivery.attempts)
        give_up_at = delivery.first_attempt_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
        if now + delay > give_up_at:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            report.gave_up += 1
        else:
            delivery.next_attempt_at = now + delay
            report.failed += 1
        endpoints.update(
            consecutive_failures=F("consecutive_failures") + 1,
            failing_since=Coalesce("failing_since", now),
        )
        if _disable_if_failing(delivery.endpoint_id, answer, now):
            report.disabled += 1
    delivery.save(
        update_fields=[
            "attempts", "state", "next_attempt_at", "first_attempt_at", "delivered_at",
            "last_status", "last_error",
        ]
    )  # fmt: skip
    return attempt


def _disable_if_failing(endpoint_id: int, answer: Answer, now: datetime) -> bool:
    """Turn the endpoint off when its run of failures is both long and old enough; tell
    directors (in this transaction) the once it happens."""
    since = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    reason = answer.error or f"HTTP {answer.status}"
    disabled = Endpoint.objects.filter(
        pk=endpoint_id,
        is_active=True,
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        failing_since__lte=since,
    ).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=reason[:300],
    )
    if not disabled:
        return False
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    log.warning(
        "webhook_endpoint_disabled",
        extra={"endpoint": endpoint_id, "failures": endpoint.consecutive_failures},
    )
    endpoint_disabled.send(sender=Endpoint, endpoint=endpoint)
    return True
