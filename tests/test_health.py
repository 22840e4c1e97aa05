import pytest
from django.utils import timezone

from core.models import Heartbeat
from core.services import heartbeat_record

pytestmark = pytest.mark.django_db


def test_health_reports_the_database_and_the_last_heartbeat(client):
    body = client.get("/health/").json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "worker_last_seen": None,
        "worker_seconds_ago": None,
    }
    heartbeat_record(source="beat")
    body = client.get("/health/").json()
    assert body["worker_seconds_ago"] == 0
    assert body["worker_last_seen"] == Heartbeat.objects.get().last_seen.isoformat()


def test_heartbeats_are_counted_per_source():
    heartbeat_record(source="beat")
    heartbeat_record(source="beat")
    heartbeat_record(source="manual")
    assert dict(Heartbeat.objects.values_list("source", "beats")) == {"beat": 2, "manual": 1}
    assert Heartbeat.objects.get(source="beat").last_seen <= timezone.now()
