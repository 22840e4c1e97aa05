"""Start real processes — a Celery worker (and beat), gunicorn, redis-server — against the
test database, and stop them whatever happens."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """A DATABASE_URL for the database this test run uses (test_<name> on PostgreSQL)."""
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d["PASSWORD"] else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


@contextmanager
def celery_worker(
    *, env: dict[str, str], beat: bool = False, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "maturity",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        command += ["--beat", "--schedule", str(log.with_suffix(".beat"))]
    full_env = {**os.environ, "DEBUG": "true", "DATABASE_URL": test_database_url(), **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM a process started in a session of its own, then SIGKILL its group if it
    has not stopped in ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def web_server(env: dict[str, str], log: Path, *, timeout: float = 60) -> Iterator[str]:
    """gunicorn serving maturity.wsgi on a free port with gunicorn.conf.py (as the
    Dockerfile runs it), one process; yields its base URL once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "gunicorn", "maturity.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--graceful-timeout", "5"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for(
            lambda: process.poll() is None and answers(f"{base}/health/live/"),
            timeout=timeout,
            log=log,
        )
        yield base
    finally:
        stop_group(process)


def wait_for(
    condition: Callable[[], bool], *, timeout: float, log: Path, interval: float = 0.25
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(
        f"condition not met in {timeout} s; worker log:\n{log.read_text()[-4000:]}"
    )


def kill_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's whole process group (the worker and its embedded beat): no
    warm shutdown, no acknowledgement, no rollback by the worker — the crash case."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def log_count(log: Path, *needles: str) -> int:
    """How many lines of a worker log contain every one of ``needles``."""
    if not log.exists():
        return 0
    lines = log.read_text(errors="replace").splitlines()
    return sum(all(needle in line for needle in needles) for line in lines)


def task_succeeded(log: Path, task: str) -> int:
    """How many times the worker logged ``task`` as succeeded."""
    return log_count(log, f"Task {task}[", "succeeded in")


@contextmanager
def broker(url: str, queue: str) -> Iterator[None]:
    """Point this (the test) process's Celery app at ``url`` and ``queue``, then restore it.

    The app read its configuration from Django settings at import time, so
    ``override_settings`` does not reach it: the app's own conf changes, and its cached
    connection and producer pools are dropped so the next publish connects afresh.
    """
    from maturity.celery import app

    conf = app.conf
    saved = {key: conf[key] for key in ("broker_url", "broker_write_url", "task_default_queue")}

    def reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    conf.broker_url = url
    conf.broker_write_url = None
    conf.task_default_queue = queue
    reset_pools()
    try:
        yield
    finally:
        for key, value in saved.items():
            conf[key] = value
        reset_pools()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, on a port of its own, that the test may stop and
    start again (same port): the shared Redis is never touched."""

    def __init__(self, *, log: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log = log
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> None:
        import redis as redis_lib

        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis_lib.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis_lib.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"redis-server on {self.port} did not start:\n{self.log.read_text()}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
