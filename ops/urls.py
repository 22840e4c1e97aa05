"""Health and metrics URLs. Each health view lists its checks here, in one place.

* ``/health/live/`` — liveness: the process answers. Restart it when this fails.
* ``/health/ready/`` (and ``/health/``) — readiness: the database, Redis, a worker's
  heartbeat, beat's tick and the outbox. Page someone when this fails.
* ``/health/worker/``, ``/health/beat/`` — one part each, for the compose health checks
  (``manage.py health_check health:beat --no-http`` runs them without a web server).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path

from ops import views

app_name = "health"


def _redis_checks() -> list[Any]:
    if not settings.REDIS_URL:
        return []  # the embedded default has neither a Redis cache nor a Redis broker
    from redis.asyncio import Redis as RedisClient

    def client() -> RedisClient:
        return RedisClient.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        )

    return [
        "health_check.checks.Cache",
        ("health_check.contrib.redis.Redis", {"client_factory": client}),
    ]


WORKER = "ops.checks.WorkerHeartbeat"
BEAT = "ops.checks.BeatTick"
READY = ["health_check.checks.Database", *_redis_checks(), WORKER, BEAT, "ops.checks.Outbox"]

urlpatterns = [
    path("live/", views.HealthView.as_view(checks=[]), name="live"),
    path("ready/", views.HealthView.as_view(checks=READY), name="ready"),
    path("worker/", views.HealthView.as_view(checks=[WORKER]), name="worker"),
    path("beat/", views.HealthView.as_view(checks=[BEAT]), name="beat"),
    path("", views.HealthView.as_view(checks=READY), name="index"),
]
