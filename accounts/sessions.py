"""The session store: Django's database sessions, kept in ``accounts.Session`` (which names
the signed-in user in a column of its own) and read, with that user's row, by one prepared
statement.

Every request of a signed-in user reads its session and then its user before anything
else. Through the ORM those two reads cost about 2 ms on this product's hot path (an
autosave was about 5), most of it compiling the same queries again in Python and planning
them again in PostgreSQL. Prepared, and joined into one statement, they are planned once
per pooled connection and cost one round trip; ``accounts.backends.ModelBackend`` takes
the user from here. Writing, expiry, cycling and ``clearsessions`` are Django's, unchanged
(``SESSION_ENGINE = "accounts.sessions"``), with the user's id written beside the data.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.db import connection
from django.utils import timezone

from core.sql import one_line, prepared_cursor

from .backends import USER
from .models import Session, User

_READ = one_line(
    f"""
    SELECT s.session_data, {USER.select("u")}
    FROM {Session._meta.db_table} s
    LEFT JOIN "{User._meta.db_table}" u ON u."{User._meta.pk.column}" = s.user_id
    WHERE s.session_key = %s AND s.expire_date > %s
    """
)


def _user_id(value: Any) -> int | None:
    """The user id a session's data holds (Django writes it as text), if it is one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _naming_user(instance: Any, data: dict[str, Any]) -> Session:
    """The row to save, with the user the data names in its own column."""
    assert isinstance(instance, Session)
    instance.user_id = _user_id(data.get(SESSION_KEY))
    return instance


class SessionStore(DatabaseStore):
    """Django's database store. Its data is signed with a salt named after the class, so
    the name stays SessionStore: sessions Django's store wrote are read here unchanged."""

    # The signed-in user, read in the same statement as the session (None: no user, or
    # not read that way).
    _user: User | None = None

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        return _naming_user(super().create_model_instance(data), data)

    async def acreate_model_instance(self, data: dict[str, Any]) -> Session:
        return _naming_user(await super().acreate_model_instance(data), data)

    def user_read_with_session(self, user_id: Any) -> User | None:
        """The user read with this session, when it is the one ``user_id`` names."""
        self._get_session()  # type: ignore[attr-defined]  # read lazily: make sure it was
        user = self._user
        return user if user is not None and str(user.pk) == str(user_id) else None

    def _get_session_from_db(self) -> Session | None:
        key = self._session_key
        self._user = None
        if connection.vendor != "postgresql" or key is None:
            return super()._get_session_from_db()  # type: ignore[misc]
        with prepared_cursor() as cursor:
            cursor.execute(_READ, [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:  # unknown or expired: a new session, as Django's store does
            self._session_key = None
            return None
        user_row = row[1 : 1 + USER.width]
        if user_row[USER.pk_at] is not None:  # a user was found
            self._user = USER.load(user_row)
        return Session(session_key=key, session_data=row[0])
