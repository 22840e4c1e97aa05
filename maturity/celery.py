"""The Celery application and the one place where periodic work is scheduled.

The product needs a handful of fixed periodic tasks, so the beat schedule lives here in
code rather than in a database of schedules: each entry is a dispatcher that finds its own
due rows, never one entry per item.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django_structlog.celery.steps import DjangoStructLogInitStep

from core.heartbeats import WORKER

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maturity.settings")

app = Celery("maturity")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Workers bind each task's log lines to the request id (and user) of the request that
# enqueued it; the publishing side is wired by the django_structlog app.
app.steps["worker"].add(DjangoStructLogInitStep)


def beat_schedule(
    heartbeat_seconds: int,
    dispatch_seconds: int = 60,
    digest_weekday: int = 1,
    digest_hour: int = 8,
    dashboard_seconds: int = 300,
    webhook_seconds: int = 30,
) -> dict[str, dict[str, object]]:
    """Every periodic task of the product, keyed by a stable name."""
    return {
        # The one education dispatcher: it scans the due index, so one entry serves every
        # action. A tick missed while the broker was down is simply done by the next one.
        "education.dispatch": {
            "task": "education.tasks.dispatch",
            "schedule": float(dispatch_seconds),
            "options": {"expires": float(dispatch_seconds)},
        },
        "education.weekly_digest": {
            "task": "education.tasks.weekly_digest",
            "schedule": crontab(minute=0, hour=digest_hour, day_of_week=digest_weekday % 7),
        },
        # The dashboards' summaries of history (trend, education figures): rebuilt whole,
        # so a missed tick costs nothing but freshness.
        "dashboards.refresh": {
            "task": "dashboards.tasks.refresh",
            "schedule": float(dashboard_seconds),
            "options": {"expires": float(dashboard_seconds)},
        },
        # Webhook deliveries due: retries, and what a broker outage kept from being sent.
        "webhooks.send": {
            "task": "webhooks.tasks.send",
            "schedule": float(webhook_seconds),
            "options": {"expires": float(webhook_seconds)},
        },
        # What has outlived its retention setting (core.privacy), every night.
        "core.purge_expired_personal_data": {
            "task": "core.tasks.purge_expired_personal_data",
            "schedule": crontab(minute=30, hour=3),
        },
        "core.heartbeat": {
            "task": "core.tasks.heartbeat",
            "schedule": float(heartbeat_seconds),
            # Recorded by the worker that runs it: beat, broker and a worker all work.
            "kwargs": {"source": WORKER},
            # A missed heartbeat is worthless later: drop it rather than queue a backlog.
            "options": {"expires": float(heartbeat_seconds)},
        },
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(
        settings.HEARTBEAT_SECONDS,
        settings.EDUCATION_DISPATCH_SECONDS,
        settings.EDUCATION_DIGEST_WEEKDAY,
        settings.EDUCATION_DIGEST_HOUR,
        settings.DASHBOARD_REFRESH_SECONDS,
        settings.WEBHOOK_DISPATCH_SECONDS,
    )
