"""The hand-written statements' cursor (core.sql.prepared_cursor): a statement's text is
turned into PostgreSQL's once, however long it is — a submit's and an import's are about
8,000 characters, past the 4,096 up to which psycopg keeps the conversion itself."""

from __future__ import annotations

import psycopg._queries
import pytest

from core import sql
from core.sql import one_line, prepared_cursor

pytestmark = pytest.mark.django_db

TERMS = 60  # more parameters than psycopg's own cache takes (50)
LONG = one_line(
    "SELECT "
    + " + ".join(["%s::int"] * TERMS)
    + ", %s::text || '%%' AS tail"
    # (a comment: the text only has to be longer than psycopg's 4,096 characters)
    + " -- "
    + "padding " * 600
)


def test_a_long_statement_is_converted_once_and_run_with_each_calls_parameters(monkeypatch):
    assert len(LONG) > psycopg._queries.MAX_CACHED_STATEMENT_LENGTH
    uncached: list[bytes] = []
    original = psycopg._queries._query2pg_nocache

    def counted(query: bytes, encoding: str):  # psycopg's path for texts it does not keep
        uncached.append(query)
        return original(query, encoding)

    monkeypatch.setattr(psycopg._queries, "_query2pg_nocache", counted)
    sql._in_postgresql_terms.cache_clear()
    answers = []
    for first in (1, 100, 1000):
        with prepared_cursor() as cursor:
            cursor.execute(LONG, [first, *range(1, TERMS), "50"])
            answers.append(cursor.fetchone())
    base = sum(range(1, TERMS))
    # Each run has its own parameters (the text's conversion is shared, not its values),
    # and a literal %% is still one % sign.
    assert answers == [(base + 1, "50%"), (base + 100, "50%"), (base + 1000, "50%")]
    info = sql._in_postgresql_terms.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert uncached == []


def test_a_statement_without_parameters_is_run_as_it_is():
    with prepared_cursor() as cursor:
        cursor.execute("SELECT 6 * 7")
        assert cursor.fetchone() == (42,)
