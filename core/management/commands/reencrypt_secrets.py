"""Rewrite every value stored encrypted (django-fernet-encrypted-fields: the webhook
secrets) under the current SECRET_KEY: the last step of rotating it, after which the old
key can leave SECRET_KEY_FALLBACKS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from encrypted_fields.fields import EncryptedFieldMixin


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            names = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)
            ]
            if not names:
                continue
            rewritten = 0
            with transaction.atomic():
                # Read with any key (SECRET_KEY or a fallback), written with the current one.
                rows = model._default_manager.select_for_update().values_list("pk", *names)
                for pk, *values in rows:
                    changes = dict(zip(names, values, strict=True))
                    model._default_manager.filter(pk=pk).update(**changes)
                    rewritten += 1
            self.stdout.write(f"{model._meta.label}: {rewritten} rewritten")
