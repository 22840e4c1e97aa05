from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from core.management.documents import ExportCommand
from education.models import Playbook
from education.services import playbook_export


class Command(ExportCommand):
    help = "Write a playbook (its templates and rules) as JSON, the format playbook_import reads."

    def document(self, *, code: str, **options: Any) -> tuple[Any, str]:
        playbook = Playbook.objects.filter(code=code).first()
        if playbook is None:
            codes = ", ".join(Playbook.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"No playbook {code!r} (there are: {codes}).")
        return playbook_export(playbook=playbook), playbook.code
