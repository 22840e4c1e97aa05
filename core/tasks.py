from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from core.services import heartbeat_record

log = logging.getLogger(__name__)


@shared_task(name="core.tasks.heartbeat")
def heartbeat(source: str = "manual") -> int:
    """Record that a worker is alive; returns the number of beats seen from ``source``."""
    return heartbeat_record(source=source).beats


def enqueue(task: Any, *args: object) -> None:
    """Publish ``task`` now, or give up within about a second.

    ``retry=False`` alone still lets kombu spend ~6 s connecting to a broker that is down
    (connection timeout plus its own retries), and that would be 6 s added to a user's
    request. One quick connection attempt is enough: the work is in the database. The
    connection comes from the app's pool and goes back to it connected, so a request
    pays a publish (a fraction of a millisecond on Redis), not a new connection.
    """
    try:
        with task.app.pool.acquire(block=True, timeout=1) as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=1
            )
            task.apply_async(args=args, retry=False, connection=connection)
    except Exception:
        # The broker is unreachable: the work is recorded in the database and a periodic
        # task picks it up. Losing the message loses nothing.
        log.warning("could not enqueue %s; a periodic task will pick it up", task, exc_info=True)
