"""The Celery worker's consumer (``CELERY_WORKER_CONSUMER``): Celery's own, reconnecting
to a broker that went away at most two seconds apart.

Celery backs off to 30 s between attempts, so after an outage a worker could sleep that
long while Redis already answers, and the catch-up (plans, e-mails) would wait for it.
An attempt costs one connect, bounded by ``REDIS_CONNECT_TIMEOUT``.
"""

from __future__ import annotations

import functools
from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer

# kombu's ensure_connection intervals: at once, then a second apart, then two. Beat's
# scheduler (core/beat.py) reconnects the same way.
RECONNECT = {"interval_start": 0, "interval_step": 1, "interval_max": 2}


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn: Any) -> Any:
        conn.ensure_connection = functools.partial(conn.ensure_connection, **RECONNECT)
        return super().ensure_connected(conn)
