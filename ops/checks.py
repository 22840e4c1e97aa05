"""The product's own health checks, for django-health-check's views (see ops/urls.py).

Each reads ``ops.selectors`` in the request's thread (``thread_sensitive``), so it uses the
request's pooled connection and gives it back with the request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from core.heartbeats import BEAT, WORKER
from ops import selectors


async def _read[T](read: Callable[[], T]) -> T:
    return await sync_to_async(read, thread_sensitive=True)()


def _stale(what: str, age: float | None, limit: float) -> None:
    if age is None:
        raise ServiceUnavailable(f"no {what} recorded yet")
    if age > limit:
        raise ServiceUnavailable(f"last {what} {age:.0f} s ago (limit {limit:g} s)")


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """A worker ran the heartbeat beat sends through the broker, recently enough."""

    max_age: float = dataclasses.field(
        default_factory=lambda: settings.HEALTH_WORKER_MAX_AGE_SECONDS
    )

    async def run(self) -> None:
        _stale(
            "worker heartbeat", await _read(lambda: selectors.heartbeat_age(WORKER)), self.max_age
        )


@dataclasses.dataclass
class BeatTick(HealthCheck):
    """Beat's scheduler ticked recently enough (it records a tick every few seconds)."""

    max_age: float = dataclasses.field(default_factory=lambda: settings.HEALTH_BEAT_MAX_AGE_SECONDS)

    async def run(self) -> None:
        _stale("beat tick", await _read(lambda: selectors.heartbeat_age(BEAT)), self.max_age)


@dataclasses.dataclass
class Outbox(HealthCheck):
    """No plan or delivery has waited for a worker longer than the limit."""

    max_age: float = dataclasses.field(
        default_factory=lambda: settings.HEALTH_OUTBOX_MAX_AGE_SECONDS
    )

    async def run(self) -> None:
        box = await _read(selectors.outbox)
        age = box.oldest_age
        if age is not None and age > self.max_age:
            raise ServiceUnavailable(
                f"the oldest waiting row is {age:.0f} s old (limit {self.max_age:g} s); "
                f"{box.plans_pending} plans and {box.deliveries_due} deliveries waiting"
            )
