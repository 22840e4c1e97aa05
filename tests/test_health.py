"""Liveness and readiness (ops/urls.py): what each endpoint checks, and that readiness
turns unhealthy for each reason it should — a stale worker heartbeat, a stale beat tick,
an outbox row waiting too long, Redis down or hung."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.heartbeats import BEAT, WORKER
from core.models import Heartbeat
from core.services import heartbeat_record
from education.models import Delivery, EducationPlan, PlanStatus
from education.services import notification_for, notifications_write
from tests.celery_process import PrivateRedis, wait_for
from tests.factories import EngagementFactory, submitted_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def alive():
    """A worker heartbeat and a beat tick, both just now."""
    heartbeat_record(source=WORKER)
    heartbeat_record(source=BEAT)


def ready(client) -> tuple[int, dict[str, str]]:
    response = client.get("/health/ready/", HTTP_ACCEPT="application/json")
    return response.status_code, response.json()


def failing(body: dict[str, str]) -> dict[str, str]:
    return {check: status for check, status in body.items() if status != "OK"}


def age(source: str, seconds: float) -> None:
    Heartbeat.objects.filter(source=source).update(
        last_seen=timezone.now() - timedelta(seconds=seconds)
    )


def test_liveness_needs_nothing_but_the_process(client):
    # No heartbeat, no worker: the process still answers, so it must not be restarted.
    response = client.get("/health/live/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {}


def test_readiness_checks_database_redis_worker_beat_and_outbox(client, alive, redis_url):
    status, body = ready(client)
    assert status == 200, body
    assert set(body.values()) == {"OK"}
    names = " ".join(body)
    for check in ("Database", "Cache", "Redis", "WorkerHeartbeat", "BeatTick", "Outbox"):
        assert check in names


def test_the_health_index_is_readiness(client, alive):
    assert client.get("/health/", HTTP_ACCEPT="application/json").json() == ready(client)[1]


def test_readiness_fails_without_any_worker_heartbeat(client):
    heartbeat_record(source=BEAT)
    status, body = ready(client)
    assert status == 503
    assert failing(body) == {
        "WorkerHeartbeat(max_age=180)": "Unavailable: no worker heartbeat recorded yet"
    }


def test_readiness_fails_when_the_worker_heartbeat_is_stale(client, alive, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 120
    age(WORKER, 119)
    assert ready(client)[0] == 200
    age(WORKER, 130)
    status, body = ready(client)
    assert status == 503
    [(check, message)] = failing(body).items()
    assert check == "WorkerHeartbeat(max_age=120)"
    assert message == "Unavailable: last worker heartbeat 130 s ago (limit 120 s)"


def test_readiness_fails_when_beat_stops_ticking(client, alive, settings):
    settings.HEALTH_BEAT_MAX_AGE_SECONDS = 60
    age(BEAT, 61)
    status, body = ready(client)
    assert status == 503
    assert list(failing(body)) == ["BeatTick(max_age=60)"]
    # The component endpoint compose's beat health check uses says the same.
    assert client.get("/health/beat/").status_code == 503
    assert client.get("/health/worker/").status_code == 200


def test_readiness_fails_when_a_plan_waits_too_long(client, alive, settings, a_client):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 600
    assessment = submitted_assessment(EngagementFactory(client=a_client))
    plan = EducationPlan.objects.get(assessment=assessment)
    assert plan.status == PlanStatus.PENDING  # no worker here: the plan waits
    assert ready(client)[0] == 200
    EducationPlan.objects.filter(pk=plan.pk).update(
        requested_at=timezone.now() - timedelta(seconds=700)
    )
    status, body = ready(client)
    assert status == 503
    assert failing(body) == {
        "Outbox(max_age=600)": "Unavailable: the oldest waiting row is 700 s old "
        "(limit 600 s); 1 plans and 0 deliveries waiting"
    }


def test_readiness_fails_when_an_email_waits_too_long_but_not_while_it_backs_off(
    client, alive, settings, manager_a
):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 600
    now = timezone.now()
    notifications_write(
        [notification_for(recipient=manager_a, kind="digest", key="late")],
        relay_soon=False,
        now=now,
    )
    email = Delivery.objects.filter(notification__idempotency_key="late")
    # Waiting out a retry backoff is not waiting for a worker.
    email.update(next_attempt_at=now + timedelta(hours=2))
    assert ready(client)[0] == 200
    email.update(next_attempt_at=now - timedelta(seconds=900))
    status, body = ready(client)
    assert status == 503
    assert "0 plans and 1 deliveries waiting" in failing(body)["Outbox(max_age=600)"]


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_when_redis_is_down_or_hung_and_answers_quickly(
    client, alive, settings, tmp_path
):
    with PrivateRedis(log=tmp_path / "redis.log") as redis:
        settings.CELERY_BROKER_URL = redis.url
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        }
        if "Redis" not in " ".join(ready(client)[1]):
            pytest.skip("REDIS_URL is not set: readiness has no Redis checks")
        # The fresh server answers within the 0.5 s timeouts once it is warm; on a busy
        # machine its first answers may not.
        wait_for(lambda: ready(client)[0] == 200, timeout=10, log=tmp_path / "redis.log")

        # Hung: the port is open and nothing answers.
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            status, body = ready(client)
            hung_for = time.monotonic() - started
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        assert status == 503
        assert {"Cache", "Redis"} <= {check.split("(")[0] for check in failing(body)}
        assert hung_for < 5, f"readiness took {hung_for:.1f} s against a hung Redis"

        redis.stop()
        status, body = ready(client)
        assert status == 503
        assert "Redis" in " ".join(failing(body))


def test_heartbeats_are_counted_per_source():
    heartbeat_record(source=BEAT)
    heartbeat_record(source=BEAT)
    heartbeat_record(source="manual")
    assert dict(Heartbeat.objects.values_list("source", "beats")) == {BEAT: 2, "manual": 1}
    assert Heartbeat.objects.get(source=BEAT).last_seen <= timezone.now()
