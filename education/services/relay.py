"""The outbox relay: pending notifications e-mailed, one row per transaction, with
retries and backoff."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from education.models import (
    EmailState,
    Notification,
)

log = logging.getLogger(__name__)


def pass_deadline(budget_seconds: float | None) -> float:
    """When a pass stops starting batches: a task never runs into its time limit, and
    what is left is still due for the next tick."""
    seconds = settings.EDUCATION_PASS_SECONDS if budget_seconds is None else budget_seconds
    return time.monotonic() + seconds


def _message_id(key: str) -> str:
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN
    return f"<{key}@{domain}>"


def retry_delay(attempts: int) -> timedelta:
    base = settings.NOTIFICATION_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class RelayReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    batches: int = 0  # rows claimed: one transaction each


def notifications_relay(
    *,
    now: datetime | None = None,
    max_messages: int | None = None,
    budget_seconds: float | None = None,
) -> RelayReport:
    """E-mail pending notifications, one row per transaction.

    Each row is locked (``SKIP LOCKED``: another worker takes the next one), sent and
    marked sent before the next is claimed, so a worker killed at any moment can have sent
    at most the one message in flight without recording it. That message is sent again
    later with the same Message-ID, so a receiver recognises the copy. A failed send is
    retried with exponential backoff until ``NOTIFICATION_MAX_ATTEMPTS``, then given up.
    The mail connection is opened once per pass and reused.
    """
    from education.messages import render_email

    report = RelayReport()
    deadline = pass_deadline(budget_seconds)
    mail = None
    try:
        while max_messages is None or report.batches < max_messages:
            if time.monotonic() >= deadline:
                break
            moment = now or timezone.now()
            with transaction.atomic():
                row = (
                    Notification.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(email_state=EmailState.PENDING, next_attempt_at__lte=moment)
                    .select_related("recipient")
                    .order_by("next_attempt_at", "id")
                    .first()
                )
                if row is None:
                    break
                report.batches += 1
                row.attempts += 1
                try:
                    if mail is None:
                        # Opened here, so the backend keeps it open across messages.
                        mail = get_connection(fail_silently=False)
                        mail.open()
                    subject, body = render_email(row)
                    EmailMessage(
                        subject=subject,
                        body=body,
                        to=[row.recipient.email],
                        headers={"Message-ID": _message_id(row.idempotency_key)},
                        connection=mail,
                    ).send()
                except SoftTimeLimitExceeded:
                    raise  # the task is out of time: roll back, this is not a failed send
                except Exception as error:  # any failure of the edge: retry later
                    _discard(mail)
                    mail = None
                    row.last_error = f"{type(error).__name__}: {error}"[:500]
                    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                        row.email_state = EmailState.FAILED
                        row.next_attempt_at = None
                        report.gave_up += 1
                    else:
                        row.next_attempt_at = moment + retry_delay(row.attempts)
                        report.failed += 1
                else:
                    row.email_state = EmailState.SENT
                    row.sent_at = timezone.now()
                    row.next_attempt_at = None
                    row.last_error = ""
                    report.sent += 1
                row.save(
                    update_fields=[
                        "attempts",
                        "email_state",
                        "sent_at",
                        "next_attempt_at",
                        "last_error",
                    ]
                )
    finally:
        _discard(mail)
    return report


def _discard(connection: Any) -> None:
    """Close a mail connection, whatever state it is in (a broken one is simply dropped)."""
    if connection is not None:
        try:
            connection.close()
        except Exception:
            log.warning("closing the mail connection failed", exc_info=True)
