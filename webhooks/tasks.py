"""Celery tasks of webhooks: thin. Sending is asked for after each commit that queued a
delivery, and beat runs it every WEBHOOK_DISPATCH_SECONDS for retries and for what a
broker outage kept from being asked."""

from __future__ import annotations

from celery import shared_task

from core.tasks import enqueue
from webhooks.relay import deliveries_send


@shared_task(name="webhooks.tasks.send")
def send() -> dict[str, int]:
    report = deliveries_send()
    return {
        "delivered": report.delivered,
        "failed": report.failed,
        "gave_up": report.gave_up,
        "disabled": report.disabled,
    }


def enqueue_send() -> None:
    enqueue(send)
