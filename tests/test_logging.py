"""Structured logs: one JSON object a line in production, and the request id that follows
a request into the Celery tasks it enqueued."""

from __future__ import annotations

import json
import logging
import logging.config
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog
import structlog.testing
from django.conf import settings

from clients.models import Phase
from core.tasks import breaker
from education.models import EducationPlan, PlanStatus
from tests.celery_process import broker, celery_worker, wait_for
from tests.factories import EngagementFactory, answer_everything


def json_lines(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows


@contextmanager
def json_logs_on_stderr() -> Iterator[None]:
    """The standard library's records rendered by LOGGING's JSON formatter onto standard
    error, with a request id bound, for the block; settings' logging after it."""
    handler = {"class": "logging.StreamHandler", "formatter": "json"}
    logging.config.dictConfig(
        {**settings.LOGGING, "handlers": {"err": handler}, "root": {"handlers": ["err"]}}
    )
    structlog.contextvars.bind_contextvars(request_id="abc-123")
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        logging.config.dictConfig(settings.LOGGING)


def test_the_json_format_writes_one_object_a_line_with_the_bound_context(capfd):
    with json_logs_on_stderr():
        logging.getLogger("maturity.test").warning("plan %s waits", 42)
        try:
            password = "hunter2-in-a-local"  # noqa: F841 (what a view's frame may hold)
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("maturity.test").exception("it failed")
    written = capfd.readouterr().err
    assert "hunter2-in-a-local" not in written  # no frame's locals in the logs
    first, second = json_lines(written)
    assert first["event"] == "plan 42 waits"
    assert first["level"] == "warning"
    assert first["logger"] == "maturity.test"
    assert first["request_id"] == "abc-123"
    assert first["timestamp"].endswith("Z")
    assert second["exception"][0]["exc_type"] == "ValueError"


@pytest.mark.django_db
def test_every_response_names_its_request_id(client, settings):
    settings.DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = False
    first = client.get("/health/live/")["X-Request-ID"]
    second = client.get("/health/live/")["X-Request-ID"]
    assert uuid.UUID(first) != uuid.UUID(second)


@pytest.mark.django_db
def test_an_upstream_request_id_is_kept_when_trusted(client, settings):
    settings.DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
    response = client.get("/health/live/", HTTP_X_REQUEST_ID="from-the-proxy-1")
    assert response["X-Request-ID"] == "from-the-proxy-1"


@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_the_request_into_its_celery_task(
    postgres, redis_url, as_a, a_client, manager_a, settings, tmp_path
):
    from assessments.services import assessment_start

    breaker.succeeded()
    settings.DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
    engagement = EngagementFactory(client=a_client, phase=Phase.OPERATION)
    assessment, _created = assessment_start(engagement=engagement, by=manager_a)
    answer_everything(assessment, level=3)
    queue, log = f"test-{uuid.uuid4().hex}", tmp_path / "worker.log"
    env = {"REDIS_URL": redis_url, "CELERY_QUEUE": queue, "LOG_FORMAT": "json"}
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    with celery_worker(env=env, log=log), broker(redis_url, queue):
        response = as_a.post(
            f"/api/v1/assessments/{assessment.pk}/submit/", HTTP_X_REQUEST_ID=request_id
        )
        assert response.status_code == 200
        assert response["X-Request-ID"] == request_id
        wait_for(
            lambda: EducationPlan.objects.filter(status=PlanStatus.BUILT).exists(),
            timeout=60,
            log=log,
        )
        wait_for(lambda: "task_succeeded" in log.read_text(), timeout=30, log=log)
    lines = json_lines(log.read_text())
    assert lines, "the worker wrote no JSON lines"
    ours = [line for line in lines if line.get("request_id") == request_id]
    assert {"task_started", "task_succeeded"} <= {line["event"] for line in ours}
    assert any(line.get("task") == "education.tasks.build_plan" for line in ours)


@pytest.mark.django_db
def test_a_request_writes_one_line_naming_its_status_user_and_user_agent(client, manager_a):
    client.force_login(manager_a)
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as events:
        client.get("/health/live/", HTTP_USER_AGENT="Probe/1.0")
    assert [event["event"] for event in events] == ["request_finished"]
    (finished,) = events
    assert finished["code"] == 200
    assert finished["user_agent"] == "Probe/1.0"
    assert finished["request"] == "GET /health/live/"
    assert finished["user_id"] == manager_a.pk
    assert finished["log_level"] == "info"


def test_structlog_lines_are_rendered_like_the_standard_librarys(capfd):
    """django-structlog's lines skip the standard library's logging (core.logs) but come
    out as its records do: one JSON object a line with the same keys (the bound context,
    the logger's name, the level, the time); below the level, nothing."""
    from core.logs import processors, stderr_logger

    logger = structlog.wrap_logger(
        stderr_logger("django_structlog.middlewares.request"),
        processors=processors("json"),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    with json_logs_on_stderr():
        logger.debug("request_started")
        logger.log(logging.INFO, "request_finished")
        logging.getLogger("maturity.test").info("request_finished")
    ours, stdlib = json_lines(capfd.readouterr().err)
    assert ours["logger"] == "django_structlog.middlewares.request"
    assert stdlib["logger"] == "maturity.test"
    assert ours.keys() == stdlib.keys() == {"event", "request_id", "logger", "level", "timestamp"}
    for line in (ours, stdlib):
        assert (line["event"], line["level"], line["request_id"]) == (
            "request_finished",
            "info",
            "abc-123",
        )
        assert line["timestamp"].endswith("Z")
