"""The authentication backend: Django's ModelBackend, whose per-request read of the
signed-in user costs no statement of its own.

``get_user`` runs on every request of a signed-in user, right after the session's read.
The session store (``accounts.sessions``) reads the user's row in the same statement as
the session's, and ``accounts.middleware.AuthenticationMiddleware`` hands that store to
this backend while Django's ``get_user`` runs, so Django's checks (the backend, the
session's password hash, an inactive user) run unchanged on a row already read. Without
that row — another database, a session written before the user column, the store's user
not the one asked for — it is one prepared statement: through the ORM it cost about
0.9 ms, two thirds of it building and compiling the same query in Python. Authentication
(passwords), permissions and everything else are ModelBackend's. The columns are the
model's own, so a new field needs nothing here.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connection

from core.sql import Columns, one_line, prepared_cursor

from .models import User

if TYPE_CHECKING:
    from .sessions import SessionStore

USER = Columns(User)  # the signed-in user's row, read by hand here and in accounts.sessions

_READ = one_line(
    f"""
    SELECT {USER.select("u")} FROM "{User._meta.db_table}" u
    WHERE u."{User._meta.pk.column}" = %s
    """
)

# The session store whose read of the session brought its user, while Django's get_user
# runs for this request (set and reset around that call only).
signing_in_with: ContextVar[SessionStore | None] = ContextVar("signing_in_with", default=None)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        store = signing_in_with.get()
        user = store.user_read_with_session(user_id) if store is not None else None
        if user is None:
            if connection.vendor != "postgresql":
                return super().get_user(user_id)
            with prepared_cursor() as cursor:
                cursor.execute(_READ, [user_id])
                row = cursor.fetchone()
            if row is None:
                return None
            user = USER.load(row)
        return user if self.user_can_authenticate(user) else None
