"""Celery tasks of education: thin — each takes an id (or nothing), calls a service.

Enqueueing happens after commit (``transaction.on_commit``), and every enqueue is
best-effort: if the broker is down the work is still in the database (a pending plan, a
due action, a pending notification) and the dispatcher's next pass picks it up.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from core.tasks import enqueue
from education import services

log = logging.getLogger(__name__)


@shared_task(name="education.tasks.build_plan")
def build_plan(plan_id: int) -> int | None:
    try:
        plan = services.plan_build(plan_id=plan_id)
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        # Rolled back; counted, and retried by the dispatcher with backoff.
        services.plan_build_failed(plan_id=plan_id, error=error)
        raise
    return None if plan is None else plan.actions.count()


@shared_task(name="education.tasks.dispatch")
def dispatch() -> dict[str, int]:
    """The one periodic dispatcher: lost plans, due actions, reassessment prompts, then the
    outbox."""
    # One budget for the whole pass, inside the task's soft time limit: what the relay
    # does not reach now is still pending for the next tick.
    started = time.monotonic()
    report = services.dispatch()
    left = settings.EDUCATION_PASS_SECONDS - (time.monotonic() - started)
    relay = services.notifications_relay(budget_seconds=max(left, 0.0))
    return {**report.as_dict(), "sent": relay.sent, "send_failures": relay.failed}


@shared_task(name="education.tasks.relay")
def relay() -> int:
    return services.notifications_relay().sent


@shared_task(name="education.tasks.weekly_digest")
def weekly_digest() -> int:
    return services.weekly_digest()


def enqueue_plan_build(plan_id: int) -> None:
    if not enqueue(build_plan, plan_id):
        services.plan_orphaned(plan_id=plan_id)


def enqueue_relay() -> None:
    enqueue(relay)
