from __future__ import annotations

import atexit
import contextvars
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import connections, transaction

from core.heartbeats import WORKER
from core.privacy import purge_expired
from core.services import heartbeat_record

log = logging.getLogger(__name__)


@shared_task(name="core.tasks.heartbeat")
def heartbeat(source: str = WORKER) -> int:
    """Record that a worker is alive; returns the number of beats seen from ``source``."""
    return heartbeat_record(source=source).beats


@shared_task(name="core.tasks.purge_expired_personal_data")
def purge_expired_personal_data() -> dict[str, int]:
    """Delete what has outlived its retention setting (core.privacy's rules); idempotent."""
    deleted = purge_expired()
    log.info("personal_data_purged", extra={"deleted": deleted})
    return deleted


class BrokerBreaker:
    """Stops a process from waiting on a broker that just failed it.

    Every publish is bounded (``REDIS_SOCKET_TIMEOUT``), but a hung Redis would still cost
    each request that timeout. After one failure the breaker stays open for
    ``BROKER_RETRY_AFTER_SECONDS``: publishes are skipped at once (the work is already in
    the database, where the dispatcher finds it), then one publish tries again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed_at = 0.0  # monotonic time from which publishing is tried again

    def allows(self) -> bool:
        return time.monotonic() >= self._closed_at

    def failed(self) -> None:
        with self._lock:
            self._closed_at = time.monotonic() + settings.BROKER_RETRY_AFTER_SECONDS

    def succeeded(self) -> None:
        with self._lock:
            self._closed_at = 0.0


breaker = BrokerBreaker()


def enqueue(task: Any, *args: object) -> bool:
    """Publish ``task`` now, or give up quickly; returns whether it was published.

    The work a message asks for is always recorded in the database first, so a message
    that is not published delays that work until the dispatcher's next pass and loses
    nothing. Hence the bounds: one connection attempt (``retry=False`` alone still lets
    kombu spend ~6 s on a broker that is down), a socket timeout on the publish itself (a
    pooled connection to a hung Redis would otherwise wait for ever), and the breaker
    above. The connection comes from the app's pool and goes back to it connected, so a
    request normally pays a publish (a fraction of a millisecond on Redis), not a connect.
    """
    if not breaker.allows():
        log.info("broker recently failed; %s left to the dispatcher", task.name)
        return False
    timeout = settings.REDIS_CONNECT_TIMEOUT
    try:
        with task.app.pool.acquire(block=True, timeout=timeout) as connection:
            try:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, interval_step=0, timeout=timeout
                )
                task.apply_async(args=args, retry=False, connection=connection)
            except BaseException:
                # The connection may hold half a reply: drop its transport (no network
                # I/O) so the next user of this pooled connection reconnects.
                connection.collect()
                raise
    except Exception as error:
        breaker.failed()
        # The error, not its traceback: the cause is the broker, and this runs on the
        # request (or task) that tried to publish.
        log.warning(
            "could not enqueue %s (%s: %s); the dispatcher will pick it up",
            task.name,
            type(error).__name__,
            error,
        )
        return False
    breaker.succeeded()
    return True


class Publisher:
    """Runs the publishes a transaction asks for once it commits (publish_after_commit).

    In a web process (maturity.wsgi and maturity.asgi call publish_in_background) they
    run on a thread of their own, one per process, so a request answers without waiting
    on the broker at all: Celery's publish costs about 0.8 ms of Python and a round trip,
    a submit's largest single step after its statements (bench/api_write.py), and a
    broker that hangs costs the request nothing rather than its bounded wait. Everywhere
    else (workers, commands, tests) they run in place, as the transaction's own hook.

    Nothing is lost that was not already safe to lose: a publish only tells a worker
    sooner about work the transaction wrote to the database, where the dispatcher finds
    it anyway. A full backlog runs the publish in place; the process's exit waits a
    bounded time for the backlog; a forked child (gunicorn's workers) starts its own
    thread. Each publish keeps its request's logging context (its request id)."""

    def __init__(self, size: int = 1000) -> None:
        self.in_background = False
        self._size = size
        self._queue: queue.Queue[Callable[[], object]] = queue.Queue(size)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def run(self, job: Callable[[], object]) -> None:
        if not self.in_background:
            job()
            return
        context = contextvars.copy_context()
        try:
            self._running().put_nowait(lambda: context.run(job))
        except queue.Full:
            log.warning("publish backlog full; publishing in the request")
            job()

    def flush(self, timeout: float) -> bool:
        """Wait until what is queued now has run, at most ``timeout`` seconds."""
        with self._lock:
            started = self._pid == os.getpid() and self._thread is not None
        if not self.in_background or not started:
            return True  # nothing was ever queued in this process
        done = threading.Event()
        try:
            self._running().put(done.set, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def _running(self) -> queue.Queue[Callable[[], object]]:
        """The queue of this process's thread, started if need be."""
        pid = os.getpid()
        with self._lock:
            if self._pid != pid or self._thread is None or not self._thread.is_alive():
                if self._pid != pid:  # a fork: the parent's thread did not come along
                    self._queue = queue.Queue(self._size)
                self._pid = pid
                self._thread = threading.Thread(
                    target=self._work, args=(self._queue,), name="publisher", daemon=True
                )
                self._thread.start()
            return self._queue

    @staticmethod
    def _work(jobs: queue.Queue[Callable[[], object]]) -> None:
        while True:
            job = jobs.get()
            try:
                job()
            except Exception:
                # Each publish is bounded and catches the broker's errors (enqueue); this
                # is a bug, and the thread must live on for the next request's publish.
                log.exception("a publish after commit failed")
            finally:
                connections.close_all()  # this thread's own, if the job used one
                jobs.task_done()


publisher = Publisher()


def publish_after_commit(job: Callable[[], object]) -> None:
    """Run ``job`` (an enqueue_… function: bounded, never raising for the broker) once
    the current transaction commits — off the request in a web process (Publisher)."""
    transaction.on_commit(lambda: publisher.run(job), robust=True)


def publish_in_background() -> None:
    """This process serves requests: their publishes run on the publisher's thread, and
    its exit waits for them a bounded time (a connect and a publish)."""
    publisher.in_background = True
    atexit.register(publisher.flush, settings.REDIS_CONNECT_TIMEOUT + settings.REDIS_SOCKET_TIMEOUT)
