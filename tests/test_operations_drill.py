"""Operations drills with real processes: a hung Redis, a dead beat, a second beat.

* Hung Redis: a private redis-server is frozen (SIGSTOP: its port stays open and nothing
  answers) for 30 s while account managers submit through the API. Each submit must
  answer in about its normal time — the plan waits in the database — and every plan must
  be built within one dispatcher tick of Redis answering again, once.
* Dead beat: ``run_embedded`` runs web, worker and beat; beat is SIGKILLed. The command
  must stop the others and exit non-zero, and the compose health check of beat
  (``manage.py health_check health:beat --no-http``) must turn unhealthy.
* Two beats: the second stands by while the first schedules, and takes over when the
  first dies (core.beat's advisory lock).
* Scale-out: two web processes and two workers share the work; nothing happens twice.

Run with ``-s`` to see the figures each drill prints.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clients.models import Phase
from core.heartbeats import BEAT
from core.models import Heartbeat
from core.tasks import breaker
from education.models import Delivery, DeliveryState, EducationPlan, Notification, PlanStatus
from tests.celery_process import (
    ROOT,
    PrivateRedis,
    broker,
    celery_worker,
    free_port,
    log_count,
    task_succeeded,
    wait_for,
    web_server,
)
from tests.celery_process import test_database_url as database_url
from tests.factories import EngagementFactory, answer_everything, emailed
from tests.mail_sink import delivered, duplicates
from tests.test_education_drill import assert_delivered_once, due_actions, worker_env

pytestmark = [pytest.mark.django_db(transaction=True)]

DISPATCH_SECONDS = 2
STALL_SECONDS = 30


@pytest.fixture
def closed_breaker():
    """The drill opens this process's broker breaker; later tests must publish again."""
    breaker.succeeded()
    yield
    breaker.succeeded()


def draft(client, manager):
    from assessments.services import assessment_start

    engagement = EngagementFactory(client=client, phase=Phase.OPERATION)
    assessment, _created = assessment_start(engagement=engagement, by=manager)
    answer_everything(assessment, level=2)
    return assessment


def submit(api, assessment) -> float:
    started = time.monotonic()
    response = api.post(f"/api/v1/assessments/{assessment.pk}/submit/")
    took = time.monotonic() - started
    assert response.status_code == 200, response.content
    return took


def test_a_hung_redis_neither_slows_submits_nor_loses_plans(
    postgres, redis_server, closed_breaker, as_a, a_client, manager_a, tmp_path
):
    log, queue = tmp_path / "worker.log", f"drill-{uuid.uuid4().hex}"
    drafts = [draft(a_client, manager_a) for _ in range(7)]
    env = {
        "CELERY_QUEUE": queue,
        "EDUCATION_DISPATCH_SECONDS": str(DISPATCH_SECONDS),
        # The lost-message sweep's grace is long here: only the catch-up of plans whose
        # publish failed can build them in time.
        "EDUCATION_PLAN_SWEEP_SECONDS": "600",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    with PrivateRedis(log=tmp_path / "redis.log") as redis:
        assert redis.process is not None
        with (
            celery_worker(env={**env, "REDIS_URL": redis.url}, beat=True, log=log),
            broker(redis.url, queue),
        ):
            normal = submit(as_a, drafts[0])
            wait_for(
                lambda: EducationPlan.objects.filter(status=PlanStatus.BUILT).count() == 1,
                timeout=60,
                log=log,
            )

            os.kill(redis.process.pid, signal.SIGSTOP)
            frozen_at = time.monotonic()
            try:
                stalled = [submit(as_a, assessment) for assessment in drafts[1:]]
                time.sleep(max(STALL_SECONDS - (time.monotonic() - frozen_at), 0))
            finally:
                os.kill(redis.process.pid, signal.SIGCONT)
            back_at = time.monotonic()
            ticks_before = task_succeeded(log, "education.tasks.dispatch")

            wait_for(
                lambda: EducationPlan.objects.filter(status=PlanStatus.BUILT).count() == 7,
                timeout=60,
                log=log,
            )
            caught_up = time.monotonic() - back_at
            ticks_to_catch_up = task_succeeded(log, "education.tasks.dispatch") - ticks_before

    print(
        f"\nhung Redis drill: normal submit {normal * 1000:.0f} ms; during the "
        f"{STALL_SECONDS} s stall {len(stalled)} submits took "
        f"{', '.join(f'{s * 1000:.0f}' for s in stalled)} ms; all plans built "
        f"{caught_up:.1f} s after Redis answered again ({ticks_to_catch_up} dispatcher "
        f"passes finished meanwhile; a tick is {DISPATCH_SECONDS} s)"
    )
    # Bounded: the first publish waits for its socket timeout (1 s), the breaker spares
    # the others. Unbounded, the first submit took the whole stall.
    assert max(stalled) < normal + 2
    assert sum(stalled) < 6 * normal + 4
    # Within one tick of Redis answering (plus the pass that builds them).
    assert caught_up < DISPATCH_SECONDS + 10
    assert ticks_to_catch_up <= 2
    plans = EducationPlan.objects.all()
    assert [plan.builds for plan in plans] == [1] * 7
    assert all(plan.actions.exists() for plan in plans)


def run_embedded(tmp_path: Path, redis_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": f"drill-{uuid.uuid4().hex}",
        "VAR_DIR": str(tmp_path / "var"),  # a folder that does not exist yet
        "HEALTH_BEAT_MAX_AGE_SECONDS": "4",
    }
    out = (tmp_path / "run_embedded.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_embedded", "--port", str(port), "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def beat_health(env_redis: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """What compose's beat health check runs."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "REDIS_URL": env_redis,
        "VAR_DIR": str(tmp_path / "var"),
        "HEALTH_BEAT_MAX_AGE_SECONDS": "4",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "health_check", "health:beat", "--no-http"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_embedded_stops_everything_when_beat_dies(postgres, redis_server, tmp_path):
    log = tmp_path / "run_embedded.log"
    with PrivateRedis(log=tmp_path / "redis.log") as redis:
        process = run_embedded(tmp_path, redis.url, free_port())
        try:
            wait_for(lambda: "Processes:" in log.read_text(), timeout=60, log=log)
            pids = {
                name: int(pid)
                for name, pid in re.findall(r"(\w+) (\d+)", log.read_text().split("Processes:")[1])
            }
            assert set(pids) == {"web", "worker", "beat"}
            # Beat's schedule folder did not exist; beat made it and ticks.
            wait_for(lambda: beat_health(redis.url, tmp_path).returncode == 0, timeout=60, log=log)

            os.kill(pids["beat"], signal.SIGKILL)
            killed_at = time.monotonic()
            code = process.wait(timeout=60)
            stopped_in = time.monotonic() - killed_at
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for name in ("web", "worker"):
            with pytest.raises(ProcessLookupError):
                os.kill(pids[name], 0)
        time.sleep(5)  # past HEALTH_BEAT_MAX_AGE_SECONDS
        check = beat_health(redis.url, tmp_path)
    print(f"\nbeat killed: run_embedded exited {code} after {stopped_in:.1f} s; {check.stdout}")
    assert code != 0
    assert "beat exited with code" in log.read_text()
    assert check.returncode == 1
    assert "BeatTick" in check.stdout
    assert "Unavailable" in check.stdout


def test_a_second_beat_stands_by_until_the_first_dies(postgres, redis_url, tmp_path):
    queue = f"drill-{uuid.uuid4().hex}"
    env = {"REDIS_URL": redis_url, "CELERY_QUEUE": queue, "HEARTBEAT_SECONDS": "1"}
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    sent = "Scheduler: Sending due task"
    with celery_worker(env=env, beat=True, log=first_log) as first:
        wait_for(lambda: log_count(first_log, sent) >= 2, timeout=60, log=first_log)
        with celery_worker(env=env, beat=True, log=second_log):
            wait_for(lambda: log_count(second_log, "stands by") == 1, timeout=60, log=second_log)
            time.sleep(3)
            assert log_count(second_log, sent) == 0
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            wait_for(lambda: log_count(second_log, "took over") == 1, timeout=60, log=second_log)
            wait_for(lambda: log_count(second_log, sent) >= 2, timeout=30, log=second_log)
    assert Heartbeat.objects.filter(source=BEAT).exists()


def post(url: str, token: str) -> int:
    request = urllib.request.Request(
        url, method="POST", data=b"", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_two_web_processes_and_two_workers_do_everything_once(
    postgres, redis_server, manager_a, a_client, tmp_path
):
    """Scale-out: submits arrive through two web processes, two workers (each with a beat;
    one stands by) build the plans and send 300 reminders. Nothing happens twice."""
    from api.services import api_token_issue

    sink = tmp_path / "sink"
    drafts = [draft(a_client, manager_a) for _ in range(12)]
    actions = due_actions(300, prefix="Scale drill")
    token = api_token_issue(user=manager_a, name="drill")[1]
    with PrivateRedis(log=tmp_path / "redis.log") as redis:
        env = {
            **worker_env(redis.url, f"drill-{uuid.uuid4().hex}", sink),
            # Only the catch-up and the messages build plans here, not the grace sweep.
            "EDUCATION_PLAN_SWEEP_SECONDS": "600",
        }
        web_env = {**os.environ, "DEBUG": "true", "DATABASE_URL": database_url(), **env}
        with (
            web_server(web_env, tmp_path / "web-1.log") as one,
            web_server(web_env, tmp_path / "web-2.log") as two,
            celery_worker(env=env, beat=True, log=tmp_path / "worker-1.log"),
            celery_worker(env=env, beat=True, log=tmp_path / "worker-2.log"),
        ):
            for n in (1, 2):  # both consume before the work arrives
                log = tmp_path / f"worker-{n}.log"
                wait_for(lambda log=log: log_count(log, " ready.") > 0, timeout=60, log=log)
            urls = [
                f"{(one, two)[n % 2]}/api/v1/assessments/{assessment.pk}/submit/"
                for n, assessment in enumerate(drafts)
            ]
            with ThreadPoolExecutor(max_workers=6) as pool:
                statuses = list(pool.map(lambda url: post(url, token), urls))
            assert statuses == [200] * len(drafts)
            log = tmp_path / "worker-1.log"
            wait_for(
                lambda: (
                    EducationPlan.objects.filter(status=PlanStatus.BUILT).count() == len(drafts)
                ),
                timeout=120,
                log=log,
            )
            wait_for(
                lambda: not Delivery.objects.filter(state=DeliveryState.PENDING).exists(),
                timeout=180,
                log=log,
            )
            wait_for(lambda: len(delivered(sink)) >= 300, timeout=60, log=log)
    logs = [(tmp_path / f"worker-{n}.log") for n in (1, 2)]
    plans = EducationPlan.objects.all()
    assert [plan.builds for plan in plans] == [1] * len(drafts)
    # Both workers worked, and one beat scheduled while the other stood by.
    assert all(log_count(log, "Task education.tasks.", "succeeded in") > 0 for log in logs)
    assert sorted(log_count(log, "stands by") for log in logs) == [0, 1]
    assert_delivered_once(actions, sink)
    assert duplicates(sink) == []
    sent_mail = Notification.objects.filter(emailed())
    assert len(delivered(sink)) == sent_mail.count()
    print(
        f"\nscale-out drill: {len(drafts)} submits through 2 web processes, "
        f"{plans.count()} plans built once each, {sent_mail.count()} e-mails delivered once "
        f"by 2 workers, 0 duplicates"
    )
