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
from education import channels
from education.models import (
    Delivery,
    DeliveryState,
    EducationAction,
    EducationPlan,
    PlanStatus,
)


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def heartbeat_age(source: str, *, now: datetime | None = None) -> float | None:
    """Seconds since ``source`` last beat; None when it never has."""
    moment = now or timezone.now()
    last = Heartbeat.objects.filter(source=source).values_list("last_seen", flat=True).first()
    return _age(last, moment)


@dataclass(frozen=True)
class Waiting:
    """One channel's pending deliveries."""

    due: int  # whose time has come
    backing_off: int  # waiting out a retry backoff after a failed send
    oldest_age: float | None  # since the oldest due delivery became due


@dataclass(frozen=True)
class Outbox:
    """Work written to the database and waiting for a worker: plans, and deliveries by
    channel (every relayed channel listed, idle ones with zeros)."""

    plans_pending: int
    oldest_plan_age: float | None  # since the plan was requested
    deliveries: dict[str, Waiting]

    @property
    def deliveries_due(self) -> int:
        return sum(w.due for w in self.deliveries.values())

    @property
    def backlog(self) -> int:
        return self.plans_pending + self.deliveries_due

    @property
    def oldest_age(self) -> float | None:
        ages = [self.oldest_plan_age, *(w.oldest_age for w in self.deliveries.values())]
        known = [a for a in ages if a is not None]
        return max(known) if known else None


def outbox(*, now: datetime | None = None) -> Outbox:
    """Two queries, each on a partial index of pending rows."""
    moment = now or timezone.now()
    plans = EducationPlan.objects.filter(status=PlanStatus.PENDING).aggregate(
        count=Count("id"), oldest=Min("requested_at")
    )
    due = Q(next_attempt_at__lte=moment)
    waiting = {kind.name: Waiting(0, 0, None) for kind in channels.relayed()}
    for row in (
        Delivery.objects.filter(state=DeliveryState.PENDING)
        .values("channel")
        .annotate(
            due=Count("id", filter=due),
            waiting=Count("id", filter=~due),
            oldest=Min("next_attempt_at", filter=due),
        )
        .order_by()
    ):
        waiting[row["channel"]] = Waiting(row["due"], row["waiting"], _age(row["oldest"], moment))
    return Outbox(
        plans_pending=plans["count"],
        oldest_plan_age=_age(plans["oldest"], moment),
        deliveries=waiting,
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
    sends: dict[str, int]  # per channel: send attempts that failed
    given_up: dict[str, int]  # per channel: deliveries that ran out of attempts


def failures() -> Failures:
    plans = EducationPlan.objects.aggregate(total=Sum("build_failures"))["total"] or 0
    sends = {kind.name: 0 for kind in channels.relayed()}
    given_up = dict(sends)
    # Every attempt but the one that succeeded failed.
    for row in (
        Delivery.objects.filter(attempts__gt=0)
        .values("channel")
        .annotate(
            attempts=Sum("attempts"),
            sent=Count("id", filter=Q(state=DeliveryState.SENT)),
            given_up=Count("id", filter=Q(state=DeliveryState.FAILED)),
        )
        .order_by()
    ):
        sends[row["channel"]] = row["attempts"] - row["sent"]
        given_up[row["channel"]] = row["given_up"]
    return Failures(plan_builds=plans, sends=sends, given_up=given_up)
