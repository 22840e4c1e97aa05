"""A link's secret is now an HMAC of a nonce kept on the row (voice/services.py), so the
e-mail relay can write it again; links made before (none sent: there was no e-mail yet)
get a nonce and their new digest. ``sent_at`` goes: the e-mail's delivery says it."""

import base64
import hashlib
import secrets

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def give_nonces(apps, schema_editor):
    Invitation = apps.get_model("voice", "Invitation")
    for invitation in Invitation.objects.filter(nonce=""):
        invitation.nonce = secrets.token_urlsafe(16)
        mac = salted_hmac("voice.invitation-link", invitation.nonce, algorithm="sha256")
        secret = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
        invitation.token_digest = hashlib.sha256(secret.encode()).hexdigest()
        invitation.save(update_fields=["nonce", "token_digest"])


class Migration(migrations.Migration):
    dependencies = [("voice", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="nonce",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(give_nonces, migrations.RunPython.noop),
        migrations.RemoveField(model_name="invitation", name="sent_at"),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(
                condition=models.Q(
                    ("finished_at__isnull", True),
                    ("reminded_at__isnull", True),
                    ("revoked_at__isnull", True),
                ),
                fields=["expires_at"],
                name="invitation_awaiting_reminder",
            ),
        ),
    ]
