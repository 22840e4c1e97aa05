"""The Prometheus endpoint: who may scrape it, and that the product's figures are the
database's (ops/metrics.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from core.heartbeats import BEAT, WORKER
from core.models import Heartbeat
from core.services import heartbeat_record
from education.models import Delivery, DeliveryState, EducationPlan
from education.services import notification_for, notifications_write, plan_build_failed
from tests.factories import EngagementFactory, submitted_assessment

pytestmark = pytest.mark.django_db

TOKEN = "scrape-me-0123456789"


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def test_without_a_token_metrics_exist_only_in_debug(client, settings):
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True
    assert client.get("/metrics").status_code == 200
    settings.DEBUG = False
    assert client.get("/metrics").status_code == 404


def test_with_a_token_a_scrape_must_send_it(client, token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_an_empty_outbox_reads_zero(client, token):
    figures = scrape(client)
    assert figures[("maturity_outbox_backlog", (("kind", "plan"),))] == 0
    assert figures[("maturity_outbox_backlog", (("kind", "email"),))] == 0
    assert figures[("maturity_outbox_oldest_age_seconds", (("kind", "plan"),))] == 0
    assert figures[("maturity_dispatcher_lag_seconds", ())] == 0
    assert figures[("maturity_plan_build_failures_total", ())] == 0
    assert figures[("maturity_delivery_failures_total", (("channel", "email"),))] == 0
    assert figures[("maturity_deliveries_given_up", (("channel", "email"),))] == 0


def test_the_outbox_figures_are_the_rows(client, token, a_client, manager_a):
    assessment = submitted_assessment(EngagementFactory(client=a_client))
    plan = EducationPlan.objects.get(assessment=assessment)
    EducationPlan.objects.filter(pk=plan.pk).update(
        requested_at=timezone.now() - timedelta(seconds=300)
    )
    now = timezone.now()
    notifications_write(
        [notification_for(recipient=manager_a, kind="digest", key=f"n{i}") for i in range(3)],
        relay_soon=False,
        now=now,
    )
    Delivery.objects.filter(notification__idempotency_key="n0").update(
        next_attempt_at=now - timedelta(seconds=90)
    )
    Delivery.objects.filter(notification__idempotency_key="n2").update(
        next_attempt_at=now + timedelta(hours=1), attempts=2
    )
    figures = scrape(client)
    assert figures[("maturity_outbox_backlog", (("kind", "plan"),))] == 1
    assert figures[("maturity_outbox_backlog", (("kind", "email"),))] == 2
    assert figures[("maturity_delivery_retry_waiting", (("channel", "email"),))] == 1
    assert 300 <= figures[("maturity_outbox_oldest_age_seconds", (("kind", "plan"),))] < 310
    assert 90 <= figures[("maturity_outbox_oldest_age_seconds", (("kind", "email"),))] < 100
    assert figures[("maturity_delivery_failures_total", (("channel", "email"),))] == 2


def test_failures_are_counted_from_the_rows(client, token, a_client, manager_a):
    assessment = submitted_assessment(EngagementFactory(client=a_client))
    plan = EducationPlan.objects.get(assessment=assessment)
    plan_build_failed(plan_id=plan.pk, error=RuntimeError("boom"))
    plan_build_failed(plan_id=plan.pk, error=RuntimeError("boom again"))
    notifications_write(
        [
            notification_for(recipient=manager_a, kind="digest", key=key)
            for key in ("sent-first-time", "sent-third-time", "gave-up")
        ],
        relay_soon=False,
    )
    email = Delivery.objects.filter(channel="email")
    email.filter(notification__idempotency_key="sent-first-time").update(
        attempts=1, state=DeliveryState.SENT
    )
    email.filter(notification__idempotency_key="sent-third-time").update(
        attempts=3, state=DeliveryState.SENT
    )
    email.filter(notification__idempotency_key="gave-up").update(
        attempts=8, state=DeliveryState.FAILED, next_attempt_at=None
    )
    figures = scrape(client)
    assert figures[("maturity_plan_build_failures_total", ())] == 2
    assert figures[("maturity_delivery_failures_total", (("channel", "email"),))] == 0 + 2 + 8
    assert figures[("maturity_deliveries_given_up", (("channel", "email"),))] == 1
    plan.refresh_from_db()
    assert plan.last_error == "RuntimeError: boom again"
    assert plan.sweep_at > timezone.now() + timedelta(seconds=60)  # backing off


def test_heartbeat_ages_are_reported_per_source(client, token):
    heartbeat_record(source=WORKER)
    heartbeat_record(source=BEAT)
    Heartbeat.objects.filter(source=BEAT).update(last_seen=timezone.now() - timedelta(seconds=42))
    figures = scrape(client)
    assert figures[("maturity_heartbeat_age_seconds", (("source", WORKER),))] < 5
    assert 42 <= figures[("maturity_heartbeat_age_seconds", (("source", BEAT),))] < 47


def test_request_metrics_come_from_django_prometheus(client, token):
    client.get("/health/live/")
    figures = scrape(client)
    assert any(name.startswith("django_http_requests") for name, _labels in figures)
