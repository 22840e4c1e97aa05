"""The operational figures: one set of queries behind the readiness checks and the metrics.

Each figure is read from the database, so every web process (and a scrape of any of them)
sees the same numbers, whichever process did the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from core.models import Heartbeat
from education.models import EducationAction, EducationPlan, EmailState, Notification, PlanStatus


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def heartbeat_age(source: str, *, now: datetime | None = None) -> float | None:
    """Seconds since ``source`` last beat; None when it never has."""
    moment = now or timezone.now()
    last = Heartbeat.objects.filter(source=source).values_list("last_seen", flat=True).first()
    return _age(last, moment)


@dataclass(frozen=True)
class Outbox:
    """Work written to the database and waiting for a worker: plans and e-mails."""

    plans_pending: int
    oldest_plan_age: float | None  # since the plan was requested
    notifications_due: int  # pending e-mails whose time has come
    notifications_waiting: int  # pending e-mails in retry backoff
    oldest_notification_age: float | None  # since the oldest due e-mail became due

    @property
    def backlog(self) -> int:
        return self.plans_pending + self.notifications_due

    @property
    def oldest_age(self) -> float | None:
        ages = [a for a in (self.oldest_plan_age, self.oldest_notification_age) if a is not None]
        return max(ages) if ages else None


def outbox(*, now: datetime | None = None) -> Outbox:
    """Two queries, each on a partial index of pending rows."""
    moment = now or timezone.now()
    plans = EducationPlan.objects.filter(status=PlanStatus.PENDING).aggregate(
        count=Count("id"), oldest=Min("requested_at")
    )
    due = Q(next_attempt_at__lte=moment)
    mails = Notification.objects.filter(email_state=EmailState.PENDING).aggregate(
        due=Count("id", filter=due),
        waiting=Count("id", filter=~due),
        oldest=Min("next_attempt_at", filter=due),
    )
    return Outbox(
        plans_pending=plans["count"],
        oldest_plan_age=_age(plans["oldest"], moment),
        notifications_due=mails["due"],
        notifications_waiting=mails["waiting"],
        oldest_notification_age=_age(mails["oldest"], moment),
    )


def dispatcher_lag(*, now: datetime | None = None) -> float:
    """How far the dispatcher is behind its due index: the age of the oldest action check
    that has fallen due (0 when it is keeping up)."""
    moment = now or timezone.now()
    oldest = EducationAction.objects.filter(next_check_at__lte=moment).aggregate(
        oldest=Min("next_check_at")
    )["oldest"]
    return _age(oldest, moment) or 0.0


@dataclass(frozen=True)
class Failures:
    """Monotonic counts read from the rows that failed (counters for Prometheus)."""

    plan_builds: int  # builds that raised
    email_sends: int  # send attempts that failed
    emails_given_up: int  # e-mails that ran out of attempts


def failures() -> Failures:
    plans = EducationPlan.objects.aggregate(total=Sum("build_failures"))["total"] or 0
    # Every attempt but the one that succeeded failed.
    mails = Notification.objects.filter(attempts__gt=0).aggregate(
        attempts=Sum("attempts"),
        sent=Count("id", filter=Q(email_state=EmailState.SENT)),
        given_up=Count("id", filter=Q(email_state=EmailState.FAILED)),
    )
    return Failures(
        plan_builds=plans,
        email_sends=(mails["attempts"] or 0) - mails["sent"],
        emails_given_up=mails["given_up"],
    )
