"""Writing many rows fast: COPY on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone


def write_rows(
    model: type[models.Model],
    fields: tuple[str, ...],
    rows: Sequence[tuple[object, ...]],
    *,
    json_fields: set[str] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Insert ``rows`` (values in ``fields`` order, ``fields`` given by column name): with
    COPY on PostgreSQL — a tenth of the time of multi-row INSERTs for millions of answers —
    and with ``bulk_create`` elsewhere. Columns the rows leave out get their field's
    default (now, for auto timestamps)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        opts = model._meta
        defaults = [f for f in opts.concrete_fields if f.column not in fields and not f.primary_key]
        columns = [*fields, *(str(f.column) for f in defaults)]
        now = timezone.now()
        extra = tuple(_copy_default(f, now) for f in defaults)
        positions = [i for i, name in enumerate(fields) if name in json_fields]
        sql = f"COPY {opts.db_table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if positions:
                    values = list(row)
                    for i in positions:
                        if values[i] is not None:
                            values[i] = json.dumps(values[i])
                    row = tuple(values)
                copy.write_row(row + extra)
        return
    attnames = {f.column: f.attname for f in model._meta.concrete_fields}
    model.objects.bulk_create(  # type: ignore[attr-defined]
        (model(**{attnames[name]: value for name, value in zip(fields, row, strict=True)}))
        for row in rows
    )


def _copy_default(field: models.Field, now: object) -> object:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    default = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(default)
    return default
