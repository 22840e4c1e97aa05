"""gunicorn's settings for Maturity: gunicorn reads ./gunicorn.conf.py by itself, so the
Dockerfile, compose and bench/load.py all start the same server. docs/operations.md says
how to size it.

Each process has WEB_THREADS threads and a database pool of DATABASE_POOL_MAX_SIZE
connections (maturity/settings.py); the pool should be at least the thread count, or a
busy thread waits up to DATABASE_POOL_TIMEOUT for a connection.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# A request running longer than this is killed with its worker (and logged): nothing
# the product serves takes more than a few seconds.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered, so a slow leak never becomes an outage.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Requests are logged by the app (django-structlog: one JSON line each, with its id).
accesslog = None
# Heartbeat files on tmpfs where there is one (in containers /tmp may be a slow overlay).
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None


def on_starting(server: Any) -> None:
    """Start from an empty Prometheus folder: figures of processes from an earlier run
    would be summed in otherwise."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges leave the scrape (its counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
