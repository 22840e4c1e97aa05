"""Celery is configured safely and a real worker and beat run through Redis and the
embedded filesystem broker."""

from __future__ import annotations

import uuid

import pytest

from core.models import Heartbeat
from core.tasks import heartbeat
from maturity.celery import app, beat_schedule
from tests.celery_process import celery_worker, wait_for


def test_tasks_are_json_late_acked_and_time_limited():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit


def test_tasks_are_autodiscovered():
    app.loader.import_default_modules()
    assert "core.tasks.heartbeat" in app.tasks


def test_the_beat_schedule_is_defined_in_code():
    schedule = beat_schedule(60)
    assert schedule["core.heartbeat"]["task"] == "core.tasks.heartbeat"
    assert schedule["core.heartbeat"]["schedule"] == 60.0
    assert app.conf.beat_schedule.keys() == schedule.keys()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_through_redis(postgres, redis_url, tmp_path):
    queue = f"test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    env = {"REDIS_URL": redis_url, "CELERY_QUEUE": queue}
    with celery_worker(env=env, log=log), app.connection_for_write(redis_url) as connection:
        heartbeat.apply_async(
            kwargs={"source": "through-redis"}, queue=queue, connection=connection
        )
        wait_for(
            lambda: Heartbeat.objects.filter(source="through-redis").exists(), timeout=60, log=log
        )
    assert Heartbeat.objects.get(source="through-redis").beats == 1


@pytest.mark.django_db(transaction=True)
def test_beat_schedules_the_heartbeat_through_redis(postgres, redis_url, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": f"test-{uuid.uuid4().hex}",
        "HEARTBEAT_SECONDS": "1",
    }
    with celery_worker(env=env, beat=True, log=log):
        wait_for(
            lambda: Heartbeat.objects.filter(source="worker", beats__gte=2).exists(),
            timeout=60,
            log=log,
        )
    # Beat records its own ticks too (core.beat), apart from the worker's heartbeat.
    assert Heartbeat.objects.filter(source="beat").exists()


@pytest.mark.django_db(transaction=True)
def test_the_embedded_broker_runs_worker_and_beat_without_redis(postgres, tmp_path):
    log = tmp_path / "worker.log"
    env = {
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "broker"),
        "HEARTBEAT_SECONDS": "1",
    }
    with celery_worker(env=env, beat=True, log=log):
        wait_for(
            lambda: Heartbeat.objects.filter(source="worker", beats__gte=2).exists(),
            timeout=60,
            log=log,
        )
    # Beat records its own ticks too (core.beat), apart from the worker's heartbeat.
    assert Heartbeat.objects.filter(source="beat").exists()


def test_the_beat_schedule_runs_the_one_education_dispatcher_and_the_weekly_digest():
    from maturity.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["education.dispatch"]["task"] == "education.tasks.dispatch"
    digest = schedule["education.weekly_digest"]["schedule"]
    assert digest.day_of_week == {1}
    assert digest.hour == {8}
    assert app.conf.timezone == "America/Sao_Paulo"
