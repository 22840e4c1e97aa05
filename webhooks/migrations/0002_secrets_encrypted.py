"""The endpoints' signing secrets stored encrypted (django-fernet-encrypted-fields): the
columns become text long enough for a Fernet token, then each stored secret is encrypted
in place (and decrypted in place going back)."""

import encrypted_fields.fields
from django.db import migrations


def _rewrite(apps, schema_editor, change):
    fields = apps.get_model("webhooks", "Endpoint")._meta
    secret, previous = fields.get_field("secret"), fields.get_field("previous_secret")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, secret, previous_secret FROM webhooks_endpoint")
        for pk, *values in cursor.fetchall():
            cursor.execute(
                "UPDATE webhooks_endpoint SET secret = %s, previous_secret = %s WHERE id = %s",
                [change(secret, values[0]), change(previous, values[1]) or "", pk],
            )


def encrypt(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda field, value: field.get_prep_value(value))


def decrypt(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda field, value: field.to_python(value))


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="endpoint",
            name="secret",
            field=encrypted_fields.fields.EncryptedTextField(verbose_name="signing secret"),
        ),
        migrations.AlterField(
            model_name="endpoint",
            name="previous_secret",
            field=encrypted_fields.fields.EncryptedTextField(
                blank=True, null=True, verbose_name="previous signing secret"
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
