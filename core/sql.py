"""Helpers for the few statements written in SQL by hand."""

from __future__ import annotations


def one_line(sql: str) -> str:
    """``sql`` without its indentation and line breaks. psycopg parses a statement's
    placeholders once and reuses the result for statements of up to 4,096 characters and
    50 parameters; a hand-written statement on a hot path (every submit) should fit, and
    its indentation is a third of its length. Only for SQL with no quoted whitespace."""
    return " ".join(sql.split())
