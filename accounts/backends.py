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

from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connection

from core.sql import one_line, prepared_cursor

from .models import User

if TYPE_CHECKING:
    from .sessions import SessionStore

_COLUMNS = User._meta.concrete_fields
_FIELDS = [field.attname for field in _COLUMNS]
# A field that converts what the database sends (a JSONField, say) gets its conversion.
_CONVERTED = [(i, field) for i, field in enumerate(_COLUMNS) if hasattr(field, "from_db_value")]
USER_WIDTH = len(_COLUMNS)
USER_PK_AT = _COLUMNS.index(User._meta.pk)


def user_columns(alias: str) -> str:
    """The user's columns for a SELECT, table ``alias``, in the order ``user_from_row``
    reads them."""
    return ", ".join(f'{alias}."{field.column}"' for field in _COLUMNS)


def user_from_row(row: Sequence[Any]) -> User:
    """The User whose columns (``user_columns``) are ``row``, as the ORM would load it."""
    values = list(row)
    for i, field in _CONVERTED:
        values[i] = field.from_db_value(values[i], None, connection)
    return User.from_db(connection.alias, _FIELDS, values)


_READ = one_line(
    f"""
    SELECT {user_columns("u")} FROM "{User._meta.db_table}" u
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
            user = user_from_row(row)
        return user if self.user_can_authenticate(user) else None
