"""No index of ours that another index already serves: a foreign key that leads a
composite index or unique constraint has no index of its own (``db_index=False``).

Such an index is written on every insert (48 answers an assessment) and read by nothing
the composite cannot answer: PostgreSQL finds rows by a leading column of a b-tree."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db

OURS = {"accounts", "api", "assessments", "clients", "core", "dashboards", "education"}
OURS |= {"ops", "voice", "web", "webhooks"}


def _our_tables() -> set[str]:
    """Our models' tables, without the through tables Django makes for a many-to-many
    field (their indexes are Django's to choose)."""
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in OURS and not model._meta.auto_created
    }


def test_no_foreign_key_of_ours_is_indexed_twice():
    doubled = []
    for model in apps.get_models():
        if model._meta.app_label not in OURS:
            continue
        led: set[str] = set()
        for index in model._meta.indexes:
            if index.fields and index.condition is None:
                led.add(index.fields[0].lstrip("-"))
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and constraint.condition is None:
                led.update(constraint.fields[:1])
        doubled += [
            f"{model._meta.label}.{field.name}"
            for field in model._meta.local_fields
            if isinstance(field, models.ForeignKey) and field.db_index and field.name in led
        ]
    assert doubled == [], "give these db_index=False: a composite already leads with them"


def test_no_index_in_the_database_is_a_prefix_of_another(postgres):
    """What the models say, checked where it matters: also an index declared by hand."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.indrelid::regclass::text, a.indexrelid::regclass::text,
                   b.indexrelid::regclass::text
              FROM pg_index a
              JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
             WHERE NOT a.indisunique AND a.indnatts < b.indnatts
               AND a.indpred IS NULL AND b.indpred IS NULL
               AND a.indexprs IS NULL AND b.indexprs IS NULL
               AND (string_to_array(b.indkey::text, ' ')::int[])[1:a.indnatts]
                   = string_to_array(a.indkey::text, ' ')::int[]
            """
        )
        redundant = [row for row in cursor.fetchall() if row[0] in _our_tables()]
    assert redundant == []
