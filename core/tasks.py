from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import shared_task
from django.conf import settings

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
