"""Helpers for the few statements written in SQL by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorDebugWrapper

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


def one_line(sql: str) -> str:
    """``sql`` without its indentation and line breaks. psycopg parses a statement's
    placeholders once and reuses the result for statements of up to 4,096 characters and
    50 parameters; a hand-written statement on a hot path (every submit) should fit, and
    its indentation is a third of its length. Only for SQL with no quoted whitespace."""
    return " ".join(sql.split())


def as_columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """``rows`` as ``width`` columns, for a statement that takes one array per column
    (``unnest(%s::…[], …)``): ``width`` empty columns when there is no row."""
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in range(width)]


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's cursor with server-side binding, every statement prepared (planned once
    per connection, then only executed)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None
    ) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


class _ComposedDebugWrapper(CursorDebugWrapper):
    """Django's debug wrapper (tests' query counts, ``connection.queries``) logging the
    statement with its parameters composed on the client: psycopg keeps no text of a
    prepared statement's execution for Django to log."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        shown = self.db.ops.compose_sql(sql, params) if params else sql
        with self.debug_sql(shown):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


def _in_connection_time_zone(cursor: psycopg.Cursor[Any]) -> None:
    """What Django's create_cursor does: timestamps loaded in the connection's time zone
    when psycopg's connection-wide loader disagrees."""
    loader = cursor.connection.adapters.get_loader(TIMESTAMPTZ_OID, psycopg.pq.Format.TEXT)
    if connection.timezone != getattr(loader, "timezone", None):
        register_tzloader(connection.timezone, cursor)


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor for the few hand-written statements on a hot path whose planning costs
    more than their work (an autosave's: about 1 ms to plan, 0.2 ms to run). PostgreSQL
    plans each once per connection (the pool keeps them) and afterwards only executes it.

    Django turns psycopg's automatic preparation off (``prepare_threshold``), to stay
    usable behind a transaction-pooling PgBouncer; this opts in per statement, so such a
    pooler would need ``max_prepared_statements`` set. The cursor is Django's wrapper —
    counted by the tests' query counts, database errors wrapped as Django's — around a
    server-binding psycopg cursor: write the statement's placeholders as ``%s`` and cast a
    parameter whose type PostgreSQL cannot infer. Timestamps read back are in the
    connection's time zone, as Django's own cursors read them. Elsewhere than PostgreSQL,
    an ordinary cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _PreparedCursor(connection.connection)
    _in_connection_time_zone(raw)
    wrapped = (
        _ComposedDebugWrapper(raw, connection)
        if connection.queries_logged
        else connection.make_cursor(raw)  # type: ignore[arg-type]
    )
    with wrapped:
        yield wrapped


class Columns:
    """A model's columns for a hand-written ``SELECT``, and the instance a row of them
    makes, as the ORM would load it (each field's conversion from the database applied).
    The columns are the model's own, so a new field needs nothing where this is used."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.width = len(fields)
        self.pk_at = fields.index(model._meta.pk)  # None there: no row was joined
        self._columns = [field.column for field in fields]
        self._attnames = [field.attname for field in fields]
        self._converted = [(i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]

    def select(self, alias: str) -> str:
        """The columns of table ``alias``, in the order ``load`` reads them."""
        return ", ".join(f'{alias}."{column}"' for column in self._columns)

    def load(self, row: Any) -> Any:
        """The instance whose columns (``select``) are ``row``."""
        values = list(row)
        for i, field in self._converted:
            values[i] = field.from_db_value(values[i], None, connection)
        return self.model.from_db(connection.alias, self._attnames, values)
