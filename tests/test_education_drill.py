"""Failure drills of the education dispatcher and outbox, with real workers and Redis.

Both run a redis-server of their own (``tests.celery_process.PrivateRedis``), never the
shared one.

* Kill drill: 1,000 reminders fall due at once; while they are being e-mailed the worker
  (and its embedded beat) is SIGKILLed several times — mid-batch, holding row locks — and
  started again. Every reminder must be written once and delivered once in effect: the
  receiver (``tests.mail_sink``) keeps one copy per Message-ID and counts the rest.
* Redis outage drill: a private redis-server is stopped for 30 seconds while work keeps
  arriving in the database (due actions, a submitted assessment whose enqueue fails);
  when Redis is back everything is done, once.

Run with ``-s`` to see the figures each drill prints.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from clients.models import Phase
from education import services
from education.models import (
    EducationAction,
    EducationPlan,
    Notification,
    NotificationKind,
    PlanStatus,
)
from tests.celery_process import (
    PrivateRedis,
    broker,
    celery_worker,
    kill_worker,
    task_succeeded,
    wait_for,
)
from tests.factories import EngagementFactory, all_emailed, emailed, submitted_assessment
from tests.mail_sink import delivered, duplicates, sink_name

pytestmark = [pytest.mark.django_db(transaction=True)]

DISPATCH = "education.tasks.dispatch"


def worker_env(redis_url: str, queue: str, sink: Path) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "EDUCATION_DISPATCH_SECONDS": "1",
        # A plan whose message was lost is built by the dispatcher after this long.
        "EDUCATION_PLAN_SWEEP_SECONDS": "5",
        "EMAIL_BACKEND": "tests.mail_sink.SinkBackend",
        "MAIL_SINK_DIR": str(sink),
        # The weekly digest must not fire in the middle of a drill: tomorrow's weekday.
        "EDUCATION_DIGEST_WEEKDAY": str(today.isoweekday() % 7 + 1),
    }


def sink_file(key: str) -> str:
    return sink_name(f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>")


class Worker:
    """A worker with embedded beat that the drill kills and starts again; each
    incarnation has its own log (and so its own beat schedule file)."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.incarnations = 0
        self.stack = ExitStack()

    def start(self) -> None:
        self.stack.close()
        self.incarnations += 1
        self.log = self.folder / f"worker-{self.incarnations}.log"
        self.stack = ExitStack()
        self.process = self.stack.enter_context(
            celery_worker(env=self.env, beat=True, log=self.log)
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        kill_worker(self.process)
        self.stack.close()

    def stop(self) -> None:
        self.stack.close()

    def logs(self) -> str:
        return "\n".join(
            (self.folder / f"worker-{n}.log").read_text(errors="replace")
            for n in range(1, self.incarnations + 1)
        )


def due_actions(count: int, *, prefix: str, owners: int = 10) -> list[EducationAction]:
    """``count`` planned actions due tomorrow, spread over ``owners`` account managers (each
    with an e-mail address); their next check — the reminder — is already past."""
    engagements = [EngagementFactory(phase=Phase.OPERATION) for _ in range(owners)]
    due = timezone.localdate() + timedelta(days=1)
    rows = []
    for n in range(count):
        engagement = engagements[n % owners]
        action = EducationAction(
            engagement=engagement,
            client=engagement.client,
            owner=engagement.client.owner,
            action_type="workshop",
            title=f"{prefix} {n}",
            due_date=due,
        )
        services.reschedule(action)
        assert action.next_check_at is not None
        assert action.next_check_at <= timezone.now()
        rows.append(action)
    return EducationAction.objects.bulk_create(rows)


def reminders_of(actions: list[EducationAction]) -> Any:
    return Notification.objects.filter(
        kind=NotificationKind.REMINDER, action_id__in=[a.pk for a in actions]
    )


def received_copies(sink: Path) -> int:
    """Every message the receiver got, copies included."""
    return len(delivered(sink)) + len(duplicates(sink))


def sent(rows: Any) -> int:
    return rows.filter(emailed()).count()


def assert_delivered_once(actions: list[EducationAction], sink: Path) -> None:
    """One reminder per action, every one e-mailed, and the receiver holds each one."""
    ids = [a.pk for a in actions]
    rows = reminders_of(actions)
    assert rows.count() == len(actions)
    assert set(rows.values_list("action_id", flat=True)) == set(ids)
    assert rows.filter(emailed()).count() == rows.count()
    assert not EducationAction.objects.filter(pk__in=ids, reminded_at__isnull=True).exists()
    expected = {sink_file(key) for key in rows.values_list("idempotency_key", flat=True)}
    assert len(expected) == len(actions)
    assert len(expected & delivered(sink)) == len(actions)


# --- Kill drill ---------------------------------------------------------------------------

KILL_DRILL_ACTIONS = 1000
# Kill when the receiver holds this many messages: the relay is mid-stream, holding the
# lock of the row it is sending. It records each message before claiming the next, so a
# kill can leave at most the one message in flight sent but unrecorded.
KILL_AT = (150, 425, 730)


def test_kill_drill_sigkilled_workers_deliver_every_reminder_once(postgres, redis_server, tmp_path):
    began = time.monotonic()
    sink = tmp_path / "sink"
    actions = due_actions(KILL_DRILL_ACTIONS, prefix="Kill drill")
    reminders = reminders_of(actions)
    # A Redis of the drill's own: each SIGKILL leaves the killed worker's unacknowledged
    # message in Redis until the visibility timeout, and that must not litter a shared one.
    redis = PrivateRedis(log=tmp_path / "redis.log")
    redis.start()
    worker = Worker(worker_env(redis.url, f"drill-{uuid.uuid4().hex}", sink), tmp_path)
    kills: list[dict[str, Any]] = []
    try:
        worker.start()
        for threshold in KILL_AT:
            wait_for(
                lambda t=threshold: len(delivered(sink)) >= t,
                timeout=60,
                log=worker.log,
                interval=0.005,
            )
            received = len(delivered(sink))
            worker.kill()
            copies_at_kill = received_copies(sink)
            committed = sent(reminders)
            kills.append(
                {
                    "at": threshold,
                    "received": received,
                    "committed_sent": committed,
                    "written": reminders.count(),
                    "duplicates_so_far": len(duplicates(sink)),
                }
            )
            # Killed while work was in progress: some reminders were still to be sent.
            assert committed < KILL_DRILL_ACTIONS
            restarted = time.monotonic()
            worker.start()
            wait_for(
                lambda c=copies_at_kill: received_copies(sink) > c,
                timeout=60,
                log=worker.log,
                interval=0.01,
            )
            kills[-1]["resumed_after_s"] = round(time.monotonic() - restarted, 1)
        wait_for(lambda: sent(reminders) == KILL_DRILL_ACTIONS, timeout=90, log=worker.log)
        drained = time.monotonic() - began
        # A few more passes: nothing is written or sent again.
        target = task_succeeded(worker.log, DISPATCH) + 3
        wait_for(lambda: task_succeeded(worker.log, DISPATCH) >= target, timeout=30, log=worker.log)
    finally:
        worker.stop()
        redis.stop()

    assert len(kills) >= 3
    assert_delivered_once(actions, sink)
    # Sent twice at all: at most the message in flight at each kill (the receiver keeps one).
    assert len(duplicates(sink)) <= len(kills)
    assert Notification.objects.count() == KILL_DRILL_ACTIONS
    assert len(delivered(sink)) == KILL_DRILL_ACTIONS
    copies = duplicates(sink)
    keys = set(reminders.values_list("idempotency_key", flat=True))
    ids = {f"<{key}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>" for key in keys}
    assert set(copies) <= ids  # every copy the receiver dropped was a reminder's re-send
    attempts = sorted(set(reminders.values_list("deliveries__attempts", flat=True)))
    print(
        "\nKILL DRILL:",
        f"{KILL_DRILL_ACTIONS} reminders,",
        f"{len(kills)} SIGKILLs,",
        f"{worker.incarnations} worker incarnations,",
        f"drained in {drained:.1f} s,",
        f"total {time.monotonic() - began:.1f} s;",
        f"duplicate deliveries absorbed by the receiver: {len(copies)}",
        f"({len(set(copies))} distinct messages); attempts recorded per row: {attempts}",
    )
    for kill in kills:
        print("  kill:", kill)


# --- Redis outage drill ----------------------------------------------------------------------

OUTAGE_SECONDS = 30


def test_redis_outage_drill_work_done_while_the_broker_was_down_is_done_once_it_returns(
    postgres, redis_server, tmp_path, caplog
):
    began = time.monotonic()
    sink = tmp_path / "sink"
    queue = f"drill-{uuid.uuid4().hex}"
    redis = PrivateRedis(log=tmp_path / "redis.log")
    redis.start()
    worker = Worker(worker_env(redis.url, queue, sink), tmp_path)
    before = due_actions(100, prefix="Before the outage")
    engagement = EngagementFactory(phase=Phase.OPERATION)
    facts: dict[str, Any] = {}
    try:
        worker.start()
        wait_for(lambda: sent(reminders_of(before)) > 0, timeout=60, log=worker.log)
        facts["committed_before_outage"] = sent(reminders_of(before))
        facts["received_before_outage"] = len(delivered(sink))

        # --- Redis goes away.
        redis.stop()
        down = time.monotonic()
        dispatches_at_outage = task_succeeded(worker.log, DISPATCH)
        # Work keeps arriving in the database while the broker is down...
        during = due_actions(100, prefix="During the outage")
        # ...and an assessment is submitted: its on-commit enqueue cannot reach the broker.
        with broker(redis.url, queue), caplog.at_level(logging.WARNING, logger="education.tasks"):
            t = time.monotonic()
            assessment = submitted_assessment(engagement, level=1)
            facts["submit_seconds_with_broker_down"] = round(time.monotonic() - t, 2)
        assert any("could not enqueue" in r.getMessage() for r in caplog.records)
        plan = EducationPlan.objects.get(assessment=assessment)
        assert plan.status == PlanStatus.PENDING
        died_at = None
        while time.monotonic() - down < OUTAGE_SECONDS:
            if died_at is None and not worker.alive():
                died_at = round(time.monotonic() - down, 1)
            time.sleep(0.5)
        facts["worker_alive_after_outage"] = worker.alive()
        facts["worker_died_after_s"] = died_at
        facts["dispatches_during_outage"] = task_succeeded(worker.log, DISPATCH) - (
            dispatches_at_outage
        )
        facts["sent_during_outage"] = sent(reminders_of(during))
        facts["plan_built_during_outage"] = EducationPlan.objects.get(pk=plan.pk).status

        # --- Redis comes back on the same port.
        redis.start()
        back = time.monotonic()
        if not worker.alive():
            worker.start()
            facts["restarted_worker"] = True
        dispatches_at_return = task_succeeded(worker.log, DISPATCH)
        wait_for(
            lambda: task_succeeded(worker.log, DISPATCH) > dispatches_at_return,
            timeout=90,
            log=worker.log,
        )
        facts["first_dispatch_after_return_s"] = round(time.monotonic() - back, 1)
        wait_for(
            lambda: (
                sent(reminders_of(before + during)) == 200
                and EducationPlan.objects.filter(pk=plan.pk, status=PlanStatus.BUILT).exists()
            ),
            timeout=60,
            log=worker.log,
        )
        facts["all_done_after_return_s"] = round(time.monotonic() - back, 1)
        target = task_succeeded(worker.log, DISPATCH) + 3
        wait_for(lambda: task_succeeded(worker.log, DISPATCH) >= target, timeout=30, log=worker.log)
        # Every notification written, PLAN_READY included, reaches the receiver.
        wait_for(
            all_emailed,
            timeout=30,
            log=worker.log,
        )
    finally:
        worker.stop()
        redis.stop()

    assert_delivered_once(before + during, sink)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.BUILT
    assert plan.builds == 1
    assert plan.actions.count() > 0
    assert Notification.objects.filter(kind=NotificationKind.PLAN_READY).count() == 1
    # Built by the dispatcher's sweep of lost plans: no build_plan message ever existed.
    logs = worker.logs()
    assert "'plans': 1" in logs
    assert "Task education.tasks.build_plan[" not in logs
    assert delivered(sink) == {
        sink_file(k) for k in Notification.objects.values_list("idempotency_key", flat=True)
    }
    reconnects = logs.count("consumer: Cannot connect to")
    lost_ticks = logs.count("Message Error: Couldn't apply scheduled task")
    unacked = logs.count("Couldn't ack")
    print(
        "\nREDIS OUTAGE DRILL:",
        f"outage {OUTAGE_SECONDS} s, total {time.monotonic() - began:.1f} s,",
        f"worker incarnations {worker.incarnations},",
        f"duplicate deliveries absorbed: {len(duplicates(sink))},",
        f"failed consumer reconnects: {reconnects},",
        f"beat ticks that could not be sent: {lost_ticks},",
        f"messages that could not be acked: {unacked}",
    )
    for name, value in facts.items():
        print(f"  {name}: {value}")
