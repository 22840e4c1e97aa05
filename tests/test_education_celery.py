"""Education's timed work with a real Celery worker and beat, through Redis.

Each test starts a worker (solo pool) with an embedded beat on a queue of its own, with the
dispatcher ticking every second, and e-mail going to ``tests.mail_sink.SinkBackend`` — a
receiver that keeps each Message-ID once and counts the copies. The test process publishes
to the same queue (``tests.celery_process.broker``), so what the services enqueue on
commit really travels through Redis to the worker.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from clients.models import Phase
from education import planning, services
from education.models import (
    EducationAction,
    EducationPlan,
    Notification,
    NotificationKind,
    PlanStatus,
)
from education.services import plans
from education.tasks import build_plan
from tests.celery_process import broker, celery_worker, log_count, task_succeeded, wait_for
from tests.factories import (
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    all_emailed,
    email_of,
    emailed,
    submitted_assessment,
)
from tests.mail_sink import delivered, duplicates, sink_name

pytestmark = [pytest.mark.django_db(transaction=True)]

DISPATCH = "education.tasks.dispatch"
BUILD_PLAN = "education.tasks.build_plan"


def worker_env(redis_url: str, queue: str, sink: Path, **extra: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "EDUCATION_DISPATCH_SECONDS": "1",
        "EMAIL_BACKEND": "tests.mail_sink.SinkBackend",
        "MAIL_SINK_DIR": str(sink),
        # The weekly digest must not fire in the middle of a test: tomorrow's weekday.
        "EDUCATION_DIGEST_WEEKDAY": str(today.isoweekday() % 7 + 1),
        **extra,
    }


def sink_file(key: str) -> str:
    return sink_name(f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>")


def ticks(log: Path, more: int, *, timeout: float = 30) -> None:
    """Wait until the dispatcher has run ``more`` further times."""
    target = task_succeeded(log, DISPATCH) + more
    wait_for(lambda: task_succeeded(log, DISPATCH) >= target, timeout=timeout, log=log)


def test_a_submitted_assessment_gets_its_plan_exactly_once(postgres, redis_url, a_client, tmp_path):
    queue, log, sink = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log", tmp_path / "sink"
    engagement = EngagementFactory(client=a_client, phase=Phase.OPERATION)
    with (
        celery_worker(env=worker_env(redis_url, queue, sink), beat=True, log=log),
        broker(redis_url, queue),
    ):
        # The real submit: the plan row is written in its transaction and build_plan is
        # enqueued on commit, through Redis, to the worker.
        assessment = submitted_assessment(engagement, level=1)
        plan = EducationPlan.objects.get(assessment=assessment)
        wait_for(
            lambda: EducationPlan.objects.filter(pk=plan.pk, status=PlanStatus.BUILT).exists(),
            timeout=45,
            log=log,
        )
        # Built by the message, not by the dispatcher's sweep of lost plans (2 minutes on).
        wait_for(lambda: task_succeeded(log, BUILD_PLAN) == 1, timeout=10, log=log)
        playbook = services.playbook_for(assessment.version.questionnaire_id)
        assert playbook is not None
        expected = len(
            planning.match(services.rules_of(playbook), plans.facts(assessment, engagement))
        )
        assert expected > 0
        assert plan.actions.count() == expected

        ready = Notification.objects.filter(kind=NotificationKind.PLAN_READY)
        wait_for(lambda: ready.filter(emailed()).count() == 1, timeout=30, log=log)

        # The dispatcher ticks on, and the same plan is asked for again: nothing changes.
        ticks(log, 3)
        build_plan.apply_async(args=(plan.pk,))
        wait_for(lambda: task_succeeded(log, BUILD_PLAN) == 2, timeout=30, log=log)
        ticks(log, 3)

        assert plan.actions.count() == expected
        assert EducationAction.objects.filter(engagement=engagement).count() == expected
        assert ready.count() == 1
        plan.refresh_from_db()
        assert plan.status == PlanStatus.BUILT
        assert plan.builds == 1
    key = ready.get().idempotency_key
    assert delivered(sink) == {sink_file(key)}
    assert duplicates(sink) == []
    # The first build made the actions; the repeated one found nothing to do.
    assert log_count(log, f"Task {BUILD_PLAN}[", "succeeded in", f"s: {expected}") == 1
    assert log_count(log, f"Task {BUILD_PLAN}[", "succeeded in", "s: None") == 1


def test_a_reminder_arrives_before_the_due_date(postgres, redis_url, a_client, manager_a, tmp_path):
    queue, log, sink = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log", tmp_path / "sink"
    engagement = EngagementFactory(client=a_client, phase=Phase.OPERATION)
    due = timezone.localdate() + timedelta(days=1)
    action = services.action_create(
        engagement=engagement, by=manager_a, action_type="workshop", title="Drill", due_date=due
    )
    assert action.next_check_at is not None
    assert action.next_check_at <= timezone.now()  # 2 days before tomorrow: due already

    reminders = Notification.objects.filter(kind=NotificationKind.REMINDER, action=action)
    with celery_worker(env=worker_env(redis_url, queue, sink), beat=True, log=log):
        wait_for(lambda: reminders.filter(emailed()).exists(), timeout=45, log=log)
        ticks(log, 3)

    reminder = reminders.get()
    assert reminder.recipient == manager_a
    assert timezone.localdate(reminder.created_at) < due
    assert timezone.localdate(email_of(reminder).sent_at) < due
    assert Notification.objects.count() == 1  # nothing else: no assignment, no overdue
    action.refresh_from_db()
    assert action.reminded_at is not None
    assert action.overdue_at is None
    # The next look is when it becomes overdue, the day after the due date.
    assert timezone.localtime(action.next_check_at).date() == due + timedelta(days=1)
    assert delivered(sink) == {sink_file(reminder.idempotency_key)}
    assert duplicates(sink) == []


def test_an_overdue_action_is_escalated_once_to_each_director(postgres, redis_url, tmp_path):
    queue, log, sink = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log", tmp_path / "sink"
    directors = DirectorFactory.create_batch(2)
    # Due 5 days ago: overdue since 4 days ago, past the 3-day grace period of escalation.
    action = EducationActionFactory(due_date=timezone.localdate() - timedelta(days=5))
    services.reschedule(action)
    action.save()
    assert action.next_check_at is not None
    assert action.next_check_at <= timezone.now()

    escalations = Notification.objects.filter(kind=NotificationKind.ESCALATION, action=action)
    with celery_worker(env=worker_env(redis_url, queue, sink), beat=True, log=log):
        wait_for(
            lambda: escalations.filter(emailed()).count() == len(directors),
            timeout=45,
            log=log,
        )
        ticks(log, 5)

    assert sorted(escalations.values_list("recipient_id", flat=True)) == sorted(
        d.pk for d in directors
    )
    overdue = Notification.objects.get(kind=NotificationKind.OVERDUE, action=action)
    assert overdue.recipient_id == action.owner_id
    # A reminder whose day passed together with the due date is not sent.
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()
    assert Notification.objects.count() == 1 + len(directors)
    assert all_emailed()
    action.refresh_from_db()
    assert action.overdue_at is not None
    assert action.escalated_at is not None
    assert action.next_check_at is None  # nothing more will happen to it
    keys = [overdue.idempotency_key, *escalations.values_list("idempotency_key", flat=True)]
    assert delivered(sink) == {sink_file(key) for key in keys}
    assert duplicates(sink) == []
