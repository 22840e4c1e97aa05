"""The product's own Prometheus metrics, read from the database at scrape time.

Counters and gauges kept in a process's memory would be wrong here: plans are built and
e-mails sent by Celery worker processes nobody scrapes. The rows themselves know, so the
collector asks them (a handful of small queries on partial indexes) whichever web
process is scraped. Alert thresholds: docs/operations.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.heartbeats import BEAT, WORKER
from ops import selectors


def _seconds(age: float | None) -> float:
    return math.nan if age is None else age


class ProductCollector:
    """maturity_* metrics; see docs/operations.md for what each means and when to alert."""

    def describe(self) -> list[Metric]:
        return []  # nothing to query when registered

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        box = selectors.outbox(now=now)
        backlog = GaugeMetricFamily(
            "maturity_outbox_backlog",
            "Rows waiting for a worker: pending plans, and deliveries (kind: their channel) "
            "whose time has come.",
            labels=["kind"],
        )
        backlog.add_metric(["plan"], box.plans_pending)
        oldest = GaugeMetricFamily(
            "maturity_outbox_oldest_age_seconds",
            "How long the oldest waiting row has waited (0 when none waits).",
            labels=["kind"],
        )
        oldest.add_metric(["plan"], box.oldest_plan_age or 0.0)
        backing_off = GaugeMetricFamily(
            "maturity_delivery_retry_waiting",
            "Deliveries waiting out a retry backoff after a failed send.",
            labels=["channel"],
        )
        for channel, waiting in box.deliveries.items():
            backlog.add_metric([channel], waiting.due)
            oldest.add_metric([channel], waiting.oldest_age or 0.0)
            backing_off.add_metric([channel], waiting.backing_off)
        yield from (backlog, oldest, backing_off)
        yield GaugeMetricFamily(
            "maturity_dispatcher_lag_seconds",
            "Age of the oldest education action check that has fallen due (0 when keeping up).",
            value=selectors.dispatcher_lag(now=now),
        )
        failed = selectors.failures()
        yield CounterMetricFamily(
            "maturity_plan_build_failures",
            "Education plan builds that raised (each rolled back and retried).",
            value=failed.plan_builds,
        )
        sends = CounterMetricFamily(
            "maturity_delivery_failures",
            "Send attempts that failed, by channel.",
            labels=["channel"],
        )
        given_up = GaugeMetricFamily(
            "maturity_deliveries_given_up",
            "Deliveries that ran out of attempts (NOTIFICATION_MAX_ATTEMPTS), by channel.",
            labels=["channel"],
        )
        for channel, count in failed.sends.items():
            sends.add_metric([channel], count)
            given_up.add_metric([channel], failed.given_up[channel])
        yield from (sends, given_up)
        ages = GaugeMetricFamily(
            "maturity_heartbeat_age_seconds",
            "Seconds since the last worker heartbeat and the last beat tick (NaN: never).",
            labels=["source"],
        )
        for source in (WORKER, BEAT):
            ages.add_metric([source], _seconds(selectors.heartbeat_age(source, now=now)))
        yield ages
