"""Helpers for the few statements written in SQL by hand."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from psycopg._queries import PostgresQuery, _query2pg_nocache

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


# What core_refuse_unless(ok, reason) raises (core/migrations/0002): a statement written by
# hand found, on the rows it wrote, a check that failed, and PostgreSQL undid all of it.
REFUSED_SQLSTATE = "MT000"


def is_refusal(error: BaseException) -> bool:
    """Whether ``error`` (a database error, as Django wraps it) is core_refuse_unless's."""
    return getattr(error.__cause__, "sqlstate", None) == REFUSED_SQLSTATE


# A hand-written statement's text turned into PostgreSQL's ($1, $2 … for %s), kept for
# every text. psycopg keeps it only for statements of at most 4,096 characters and 50
# parameters, so as not to keep the ever-changing texts an ORM generates (VALUES lists
# of every length); it found every other statement's placeholders again on each
# execution: 0.4 ms of a submit's and of an import's, whose statements are about 8,000
# characters. Our texts are few and fixed (one per statement and kind of user), so
# keeping them all costs a few kilobytes; the bound only guards against a mistake.
_in_postgresql_terms = lru_cache(maxsize=256)(_query2pg_nocache)


class _HandWrittenQuery(PostgresQuery):
    """psycopg's conversion of a query and its parameters, with the text's conversion
    kept whatever its length (``_in_postgresql_terms``)."""

    __slots__ = ()

    def convert(self, query: Any, vars: Any) -> None:
        if vars is None or not isinstance(query, str | bytes):
            super().convert(query, vars)
            return
        text = query.encode(self._tx.encoding) if isinstance(query, str) else query
        self.query, self._want_formats, self._order, self._parts = _in_postgresql_terms(
            text, self._tx.encoding
        )
        self.dump(vars)


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's cursor with server-side binding, every statement prepared (planned once
    per connection, then only executed), its text converted once (_HandWrittenQuery)."""

    _query_cls = _HandWrittenQuery

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

    def of(self, values: Any) -> Any:
        """The instance whose field values, as the ORM converts them (``values_list`` of
        ``names``), are ``values``."""
        return self.model.from_db(connection.alias, self._attnames, list(values))

    def index(self, attname: str) -> int:
        """Where the field ``attname`` (``question_id``, not ``question``) is in a row."""
        return self._attnames.index(attname)

    def names(self, prefix: str = "") -> list[str]:
        """The fields' names for ``values_list`` (through the relation ``prefix``, such as
        ``"client__"``), in the order ``load`` reads them."""
        return [f"{prefix}{attname}" for attname in self._attnames]


# Ids no row has: a Reused read's stand-ins, replaced on each run by the real ones.
_FIRST_STAND_IN = -720_400_001

_Converters = list[tuple[int, tuple[list[Callable[..., Any]], Any]]]
_BIGINT = range(-(2**63), 2**63)


def holds_a_key(value: int) -> bool:
    """Whether ``value`` fits a bigint key: no row has an id beyond, and PostgreSQL
    refuses such a parameter instead of finding nothing."""
    return value in _BIGINT


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    converters: _Converters
    locks: bool  # SELECT … FOR UPDATE: only inside a transaction


class Reused:
    """A read on a hot path that the ORM writes once and PostgreSQL plans once.

    Compiling a queryset costs the ORM more than running it (about 1 ms for a lookup
    through the scoping rule, where the statement takes 0.2 ms). ``build(shape,
    **stand_ins)`` makes the queryset — a ``values_list`` of fields, without annotations —
    with each id it will be run for given as a stand-in: a negative int no row has, so
    only for primary and foreign keys (a field that refuses negative values would make
    the ORM drop the condition as unmatchable, and the read return nothing). It is
    compiled once per ``shape`` (whatever else changes its text, such as the kind of
    user), and each ``rows`` runs that text as a prepared statement with the stand-ins
    replaced by the call's ids. The rows are what ``values_list`` would return, the ORM's
    conversions applied (make a model's instance of them with :meth:`Columns.of`). A
    queryset that can match nothing (the rule's "no one") is not run, nor is one for an
    id no key can hold."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *ids: str) -> None:
        self._build = build
        self._stand_ins = {name: _FIRST_STAND_IN - n for n, name in enumerate(ids)}
        self._compiled: dict[Hashable, _Statement | None] = {}

    def _compile(self, shape: Hashable) -> _Statement | None:
        key = (connection.vendor, shape)
        try:
            return self._compiled[key]
        except KeyError:
            pass
        queryset = self._build(shape, **self._stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            compiled = None
        else:
            if queryset.query.annotation_select or queryset.query.extra_select:
                raise TypeError("A Reused read selects fields, not annotations.")
            converters = compiler.get_converters([column for column, _, _ in compiler.select])
            compiled = _Statement(
                sql, tuple(params), list(converters.items()), queryset.query.select_for_update
            )
        self._compiled[key] = compiled
        return compiled

    def rows(self, shape: Hashable, **ids: int) -> list[tuple[Any, ...]]:
        compiled = self._compile(shape)
        if compiled is None or any(value not in _BIGINT for value in ids.values()):
            return []  # (the ORM, too, answers an id beyond any key's range with no row)
        if compiled.locks and connection.get_autocommit():
            # What the ORM says, on every run rather than when compiling only.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with prepared_cursor() as cursor:
            cursor.execute(compiled.sql, self._substituted(compiled, ids))
            rows = cursor.fetchall()
        if not compiled.converters:
            return rows
        return [_converted(row, compiled.converters) for row in rows]

    def text(self, shape: Hashable) -> str:
        """The statement's text for ``shape``, for a hand-written statement to hold (as a
        subquery); its parameters are ``params``'. Not for a read that can match nothing."""
        return self._matching(shape).sql

    def params(self, shape: Hashable, **ids: int) -> list[Any]:
        """The parameters of ``text(shape)`` for ``ids``."""
        return self._substituted(self._matching(shape), ids)

    def _matching(self, shape: Hashable) -> _Statement:
        compiled = self._compile(shape)
        if compiled is None:
            raise ValueError(f"This read matches nothing for {shape!r}: there is no text.")
        return compiled

    def _substituted(self, compiled: _Statement, ids: dict[str, int]) -> list[Any]:
        """The statement's parameters, each stand-in replaced by its id."""
        values = {self._stand_ins[name]: value for name, value in ids.items()}
        return [values.get(p, p) if type(p) is int else p for p in compiled.params]


def _converted(row: tuple[Any, ...], converters: _Converters) -> tuple[Any, ...]:
    """``row`` as the ORM returns it: each column through its field's and the database's
    conversions (on PostgreSQL few have any: JSON; on SQLite dates, booleans…)."""
    values = list(row)
    for at, (functions, expression) in converters:
        value = values[at]
        for function in functions:
            value = function(value, expression, connection)
        values[at] = value
    return tuple(values)
