from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from education.models import Playbook
from education.services import playbook_export


class Command(BaseCommand):
    help = "Write a playbook (its templates and rules) as JSON, the format playbook_import reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("-o", "--output", help="A file to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        playbook = Playbook.objects.filter(code=options["code"]).first()
        if playbook is None:
            codes = ", ".join(Playbook.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"No playbook {options['code']!r} (there are: {codes}).")
        text = json.dumps(playbook_export(playbook=playbook), ensure_ascii=False, indent=2)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(text + "\n")
        else:
            self.stdout.write(text)
