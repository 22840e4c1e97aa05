"""core_refuse_unless(ok, reason): a guard for statements written by hand that must undo
their own writes. A single autocommit statement is its own transaction; when one of its
checks can only be made on the rows it wrote (a revision re-checked after a wait), the
guard raises and PostgreSQL undoes the whole statement. See core.sql.REFUSED_SQLSTATE."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_refuse_unless(ok boolean, reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION USING ERRCODE = 'MT000', MESSAGE = reason;
    END IF;
    RETURN true;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS core_refuse_unless(boolean, text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
