"""The session store: Django's database sessions, read by one prepared statement.

Every request of a signed-in user reads its session before anything else. Through the ORM
that read cost about 1 ms on this product's hot path (an autosave is about 5), most of it
compiling the same query again in Python and planning it again in PostgreSQL; prepared, it
is planned once per pooled connection and costs a round trip. Writing, expiry, cycling and
``clearsessions`` are Django's, unchanged (``SESSION_ENGINE = "accounts.sessions"``).
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from core.sql import one_line, prepared_cursor

_READ = one_line(
    f"""
    SELECT session_data FROM {Session._meta.db_table}
    WHERE session_key = %s AND expire_date > %s
    """
)


class SessionStore(DatabaseStore):
    def _get_session_from_db(self) -> Session | None:
        key = self._session_key
        if connection.vendor != "postgresql" or key is None:
            return super()._get_session_from_db()  # type: ignore[misc]
        with prepared_cursor() as cursor:
            cursor.execute(_READ, [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:  # unknown or expired: a new session, as Django's store does
            self._session_key = None
            return None
        return Session(session_key=key, session_data=row[0])
