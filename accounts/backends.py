"""The authentication backend: Django's ModelBackend, whose per-request read of the
signed-in user is one prepared statement.

``get_user`` runs on every request of a signed-in user, right after the session's read.
Through the ORM it cost about 0.9 ms, two thirds of it building and compiling the same
query in Python; prepared, it is planned once per pooled connection and costs a round trip
and ``from_db``. Authentication (passwords), permissions and everything else are
ModelBackend's. The columns are the model's own, so a new field needs nothing here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connection

from core.sql import one_line, prepared_cursor

from .models import User

_COLUMNS = User._meta.concrete_fields
_FIELDS = [field.attname for field in _COLUMNS]
# A field that converts what the database sends (a JSONField, say) gets its conversion.
_CONVERTED = [(i, field) for i, field in enumerate(_COLUMNS) if hasattr(field, "from_db_value")]
_READ = one_line(
    f"""
    SELECT {", ".join(f'"{field.column}"' for field in _COLUMNS)}
    FROM "{User._meta.db_table}" WHERE "{User._meta.pk.column}" = %s
    """
)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        with prepared_cursor() as cursor:
            cursor.execute(_READ, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, field in _CONVERTED:
            values[i] = field.from_db_value(values[i], None, connection)
        user = User.from_db(connection.alias, _FIELDS, values)
        return user if self.user_can_authenticate(user) else None
