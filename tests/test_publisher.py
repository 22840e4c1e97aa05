"""A web process publishes its Celery messages after the commit from a thread of its own
(core.tasks.Publisher): the request answers without waiting on the broker, and what the
publish would have told a worker is in the database either way."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core import tasks as core_tasks
from core.tasks import Publisher, publish_after_commit, publisher
from education import tasks as education_tasks
from education.models import EducationPlan
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    EngagementFactory,
    answer_everything,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def in_background(monkeypatch):
    """This test process serves requests as maturity.wsgi's does."""
    monkeypatch.setattr(publisher, "in_background", True)
    yield publisher
    assert publisher.flush(5)


def _submit_through_the_api() -> int:
    from assessments.services import assessment_start

    manager = AccountManagerFactory()
    draft = assessment_start(
        engagement=EngagementFactory(client=ClientFactory(owner=manager)), by=manager
    )[0]
    answer_everything(draft, level=3)
    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(f"/api/v1/assessments/{draft.pk}/submit/")
    assert response.status_code == 200, response.content
    return draft.pk


def test_a_requests_publish_runs_after_its_response_on_the_publishers_thread(
    in_background, monkeypatch, redis_url
):
    ran_on: list[str] = []
    publish = education_tasks.enqueue

    def recorded(task, *args):
        ran_on.append(threading.current_thread().name)
        return publish(task, *args)

    monkeypatch.setattr(education_tasks, "enqueue", recorded)
    _submit_through_the_api()
    assert in_background.flush(5)
    assert ran_on == ["publisher"]


def test_a_hung_broker_costs_the_request_nothing_and_its_plan_is_swept_at_the_next_tick(
    in_background, monkeypatch
):
    """The publish waits a whole second and fails: the request has long answered, and
    the publisher's thread marks the plan for the dispatcher's next pass (its own
    database connection, closed after)."""

    def hung(task, *args):
        time.sleep(1.0)
        return False

    monkeypatch.setattr(education_tasks, "enqueue", hung)
    started = time.monotonic()
    assessment = _submit_through_the_api()
    answered_in = time.monotonic() - started
    plan = EducationPlan.objects.get(assessment_id=assessment)
    assert plan.sweep_at > timezone.now() + timedelta(seconds=30)  # not yet orphaned
    assert answered_in < 0.9
    assert in_background.flush(5)
    plan.refresh_from_db()
    assert plan.sweep_at <= timezone.now()  # the dispatcher's next pass builds it


def test_elsewhere_a_publish_runs_in_place_once_the_transaction_commits(monkeypatch):
    from django.db import transaction

    assert publisher.in_background is False  # tests, workers, commands
    ran: list[str] = []
    with transaction.atomic():
        publish_after_commit(lambda: ran.append(threading.current_thread().name))
        assert ran == []
    assert ran == [threading.current_thread().name]


def test_a_failing_publish_is_logged_and_the_thread_lives_on(caplog):
    mine = Publisher(size=10)
    mine.in_background = True
    ran: list[int] = []

    def broken() -> None:
        raise RuntimeError("a bug in a publish")

    mine.run(broken)
    mine.run(lambda: ran.append(1))
    assert mine.flush(5)
    assert ran == [1]
    assert "a publish after commit failed" in caplog.text


def test_a_full_backlog_publishes_in_the_request():
    mine = Publisher(size=1)
    mine.in_background = True
    release = threading.Event()
    mine.run(lambda: release.wait(5))  # the thread is busy with this one
    time.sleep(0.1)
    mine.run(lambda: None)  # waits in the queue, which is now full
    ran_on: list[str] = []
    mine.run(lambda: ran_on.append(threading.current_thread().name))
    assert ran_on == [threading.current_thread().name]
    release.set()
    assert mine.flush(5)


def test_a_forked_process_starts_its_own_thread(monkeypatch):
    mine = Publisher(size=10)
    mine.in_background = True
    mine.run(lambda: None)
    assert mine.flush(5)
    parents = mine._thread
    assert parents is not None
    monkeypatch.setattr(core_tasks.os, "getpid", lambda: -1)  # as in a gunicorn worker
    ran: list[int] = []
    mine.run(lambda: ran.append(1))
    assert mine.flush(5)
    assert ran == [1]
    assert mine._thread is not parents


def test_a_process_that_never_published_exits_without_starting_a_thread():
    """publish_in_background's exit hook flushes; a thread cannot start at exit."""
    mine = Publisher(size=10)
    mine.in_background = True
    assert mine.flush(1)
    assert mine._thread is None


@pytest.mark.parametrize("entry", ["maturity.wsgi", "maturity.asgi"])
def test_a_web_process_publishes_in_the_background_and_exits_cleanly(entry):
    """The entry points turn the publisher on; a process that served nothing exits with
    nothing to flush, and without its exit hook failing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = f"import {entry}; from core.tasks import publisher; print(publisher.in_background)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "maturity.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert "Exception" not in result.stderr, result.stderr
