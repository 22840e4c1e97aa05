"""Webhooks with a real Celery worker and beat through Redis: a committed change reaches the
receiver without anyone running the relay by hand, and a failed attempt is retried by
beat's pass."""

from __future__ import annotations

import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from clients import services as clients_services
from tests.celery_process import broker, celery_worker, task_succeeded, wait_for
from tests.factories import AccountManagerFactory, DirectorFactory
from tests.webhook_receiver import receiver
from webhooks import services
from webhooks.models import Attempt, Delivery, DeliveryState

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_committed_change_is_delivered_by_the_worker_and_retried_by_beat(
    postgres, redis_url, tmp_path
):
    queue, log = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log"
    env = {
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "WEBHOOK_DISPATCH_SECONDS": "1",
        "WEBHOOK_RETRY_SECONDS": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    with receiver() as hook, celery_worker(env=env, beat=True, log=log), broker(redis_url, queue):
        hook.script.statuses = [500]  # the first attempt fails, the next ones succeed
        endpoint = services.endpoint_create(
            url=hook.url, event_types=["client.created"], by=DirectorFactory()
        )
        client = clients_services.client_create(
            by=None, name="Cliente do Webhook", owner=AccountManagerFactory(), segment="retail",
            size="large", country="BR",
        )  # fmt: skip
        first, second = hook.wait_for(2, timeout=45)
        delivery = Delivery.objects.get(endpoint=endpoint)
        wait_for(
            lambda: Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.DELIVERED).exists(),
            timeout=15,
            log=log,
        )
        assert task_succeeded(log, "webhooks.tasks.send") >= 2
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    payload = Webhook(endpoint.secret).verify(second.body, second.headers)
    assert payload["data"]["client"] == client.pk
    assert list(
        Attempt.objects.filter(delivery=delivery).order_by("number").values_list("status_code")
    ) == [(500,), (200,)]
