"""Celery beat's scheduler for this product (``CELERY_BEAT_SCHEDULER``).

Three things the stock ``PersistentScheduler`` does not do:

* **Its schedule file's folder exists.** The file only remembers when each entry last ran
  (the schedule itself is code, ``maturity/celery.py``); beat used to die on a fresh clone
  where ``var/`` had not been made.
* **Its ticks are recorded** (``Heartbeat`` source ``beat``), so the readiness check, the
  metrics and compose's health check see a beat that stopped — even while a worker,
  which records the ``worker`` heartbeat beat sends through the broker, is fine.
* **One beat at a time.** On PostgreSQL a beat schedules only while it holds a session
  advisory lock (keyed by the queue name, so deployments sharing a server stay apart);
  a second beat — a scaled-out replica, or one started by mistake — stands by, ticking
  without scheduling, and takes over when the first one's connection ends (its process
  died or its database connection was cut). Duplicates would be harmless anyway — every
  periodic task is idempotent — but they would be work for nothing.
"""

from __future__ import annotations

import logging
import time
import zlib
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connection

from core.heartbeats import BEAT
from core.services import heartbeat_record
from core.worker import RECONNECT

log = logging.getLogger(__name__)

# How often the tick is written and the lock's connection proven alive: often enough
# that the readiness limit (HEALTH_BEAT_MAX_AGE_SECONDS) sees four records in a window.
MAX_RECORD_SECONDS = 10.0


def record_seconds() -> float:
    return min(MAX_RECORD_SECONDS, settings.HEALTH_BEAT_MAX_AGE_SECONDS / 4)


# How often a standing-by beat tries to take over.
STANDBY_SECONDS = 5.0


class SingleBeatLock:
    """A PostgreSQL session advisory lock held on a connection of its own (never one of
    the pool's, which would hand the lock to whoever borrows the connection next)."""

    def __init__(self, name: str) -> None:
        # pg advisory locks take a bigint; crc32 of the name is stable across processes.
        self.key = zlib.crc32(name.encode())
        self._connection: Any = None

    @staticmethod
    def needed() -> bool:
        return connection.vendor == "postgresql"

    def holds(self) -> bool:
        return self._connection is not None

    def try_acquire(self) -> bool:
        import psycopg  # only on PostgreSQL

        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if key not in {"cursor_factory", "context", "prepare_threshold"}
        }
        try:
            conn = psycopg.connect(**params, autocommit=True)
        except psycopg.Error as error:
            log.warning("beat could not reach the database for its lock: %s", error)
            return False
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        if not (row and row[0]):
            conn.close()
            return False
        self._connection = conn
        return True

    def alive(self) -> bool:
        """Whether the lock is still ours: its connection still answers."""
        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")
        except Exception:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the beat lock's connection failed", exc_info=True)
            self._connection = None


class Scheduler(PersistentScheduler):
    """The product's beat scheduler: see the module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        filename = kwargs.get("schedule_filename") or settings.CELERY_BEAT_SCHEDULE_FILENAME
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        self._lock = SingleBeatLock(f"maturity.beat:{settings.CELERY_TASK_DEFAULT_QUEUE}")
        self._recorded_at = 0.0
        self._standing_by = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        every = record_seconds()
        due = now - self._recorded_at >= every
        if due and self._lock.holds():
            self._lock.alive()  # a lost connection lost the lock too
        if SingleBeatLock.needed() and not self._lock.holds():
            if not self._lock.try_acquire():
                if not self._standing_by:
                    log.warning("another beat is scheduling; this one stands by")
                    self._standing_by = True
                return STANDBY_SECONDS
            if self._standing_by:
                log.warning("this beat took over the schedule")
            self._standing_by = False
        if due:
            # Only the scheduling beat records: a fresh tick means schedules are running.
            self._recorded_at = now
            self._record_tick()
        return min(float(super().tick(*args, **kwargs)), every)

    def _ensure_connected(self) -> Any:
        """Reconnect to the broker at most a second or two apart. Celery's default backs off
        to 30 s, so after an outage the first tick — and the catch-up it brings — could
        come that long after the broker answers again."""

        def report(error: Exception, interval: float) -> None:
            log.error("beat: broker unreachable (%s); trying again in %s s", error, interval)

        return self.connection.ensure_connection(
            report, self.app.conf.broker_connection_max_retries, **RECONNECT
        )

    def _record_tick(self) -> None:
        try:
            heartbeat_record(source=BEAT)
        except Exception:
            log.warning("beat could not record its tick", exc_info=True)
        finally:
            connection.close()  # back to the pool; beat sleeps between ticks

    def close(self) -> None:
        self._lock.release()
        super().close()
