"""The outbox relay: pending deliveries sent through their channel, one row per
transaction, with retries and backoff."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from education import channels
from education.models import Delivery, DeliveryState

log = logging.getLogger(__name__)


def pass_deadline(budget_seconds: float | None) -> float:
    """When a pass stops starting batches: a task never runs into its time limit, and
    what is left is still due for the next tick."""
    seconds = settings.EDUCATION_PASS_SECONDS if budget_seconds is None else budget_seconds
    return time.monotonic() + seconds


def retry_delay(attempts: int) -> timedelta:
    base = settings.NOTIFICATION_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class RelayReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    batches: int = 0  # rows claimed: one transaction each


class UnknownChannel(LookupError):
    """A delivery names a channel that is no longer relayed: it can never be sent."""


class _Senders:
    """One instance of each channel for the pass (each keeps its connection open)."""

    def __init__(self) -> None:
        self.open: dict[str, channels.Channel] = {}

    def get(self, name: str) -> channels.Channel:
        if name not in self.open:
            kind = channels.CHANNELS.get(name)
            if kind is None or not kind.relayed:
                raise UnknownChannel(f"no relayed channel called {name!r}")
            self.open[name] = kind()
        return self.open[name]

    def close(self) -> None:
        for sender in self.open.values():
            sender.close()


def notifications_relay(
    *,
    now: datetime | None = None,
    max_messages: int | None = None,
    budget_seconds: float | None = None,
) -> RelayReport:
    """Send pending deliveries through their channels, one row per transaction.

    Each row is locked (``SKIP LOCKED``: another worker takes the next one), sent and
    marked sent before the next is claimed, so a worker killed at any moment can have sent
    at most the one message in flight without recording it (sent again later, it carries
    the same idempotency key). A failed send is retried with exponential backoff until
    ``NOTIFICATION_MAX_ATTEMPTS``, then given up.
    """
    report = RelayReport()
    deadline = pass_deadline(budget_seconds)
    senders = _Senders()
    try:
        while max_messages is None or report.batches < max_messages:
            if time.monotonic() >= deadline:
                break
            moment = now or timezone.now()
            with transaction.atomic():
                row = (
                    Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(state=DeliveryState.PENDING, next_attempt_at__lte=moment)
                    .select_related(
                        "notification__recipient",
                        "notification__invitation__stakeholder",
                        "notification__invitation__round__engagement__client",
                        "notification__invitation__round__version",
                    )
                    .order_by("next_attempt_at", "id")
                    .first()
                )
                if row is None:
                    break
                report.batches += 1
                _attempt(row, senders, moment, report)
    finally:
        senders.close()
    return report


def _attempt(row: Delivery, senders: _Senders, moment: datetime, report: RelayReport) -> None:
    """Send one delivery and record the outcome on its row."""
    row.attempts += 1
    try:
        senders.get(row.channel).send(row.notification)
    except SoftTimeLimitExceeded:
        raise  # the task is out of time: roll back, this is not a failed send
    except Exception as error:  # any failure of the edge: retry later
        row.last_error = f"{type(error).__name__}: {error}"[:500]
        if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS or isinstance(error, UnknownChannel):
            row.state = DeliveryState.FAILED
            row.next_attempt_at = None
            report.gave_up += 1
        else:
            row.next_attempt_at = moment + retry_delay(row.attempts)
            report.failed += 1
    else:
        row.state = DeliveryState.SENT
        row.sent_at = timezone.now()
        row.next_attempt_at = None
        row.last_error = ""
        report.sent += 1
    row.save(update_fields=["attempts", "state", "sent_at", "next_attempt_at", "last_error"])
