"""What every benchmark does first: the project on ``sys.path`` and Django set up (import
this module before anything of the project), and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maturity.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# As in production, and as Django's test runner does: DEBUG off, so no statement is kept
# in a query log while it is timed (a benchmark counts statements with
# CaptureQueriesContext, which turns the log on for its block alone).
settings.DEBUG = False

# As the web server does (maturity.wsgi): a request's Celery messages are published after
# its commit from the publisher's thread, not while the client waits.
from core.tasks import publish_in_background  # noqa: E402

publish_in_background()

from django.db import connection  # noqa: E402


def require_postgresql(why: str = "") -> None:
    if connection.vendor != "postgresql":
        sys.exit(f"Set DATABASE_URL to a PostgreSQL server{': ' + why if why else '.'}")


@contextmanager
def throwaway_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """A database called ``name`` next to the one in ``DATABASE_URL``, made by Django's
    test machinery (create, migrate: the default questionnaire and playbook are loaded),
    dropped afterwards unless ``keep`` (then reused by the next run). Yields its name."""
    # Without Django's pool: it keeps a connection open across close() and is bound to one
    # database, and a benchmark holds one connection and may switch to copies of its data.
    connection.close()
    connection.settings_dict["OPTIONS"].pop("pool", None)
    connection.settings_dict["TEST"]["NAME"] = name
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=keep)
    created = connection.settings_dict["NAME"]
    try:
        yield created
    finally:
        connection.close()
        connection.settings_dict["NAME"] = created  # a benchmark may have switched copies
        creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """The p50 and p95 of ``samples``."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def admin(sql: str) -> None:
    """A statement run on the maintenance database (CREATE/DROP DATABASE)."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(sql)


@contextmanager
def copy_of(base: str, name: str) -> Iterator[float]:
    """Work on a fresh copy of ``base`` called ``name`` (yields the seconds the copy took),
    dropped afterwards."""
    connection.close()
    started = time.perf_counter()
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
    took = time.perf_counter() - started
    connection.settings_dict["NAME"] = name
    try:
        with connection.cursor() as cursor:  # connect before anything is timed
            cursor.execute("SELECT 1")
        yield took
    finally:
        connection.close()
        connection.settings_dict["NAME"] = base
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
