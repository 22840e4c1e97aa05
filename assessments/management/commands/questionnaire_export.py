from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.models import Questionnaire
from assessments.services import version_export


class Command(BaseCommand):
    help = "Write a questionnaire version as JSON (the import format). Default: current version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="The questionnaire's code, e.g. bpo-client-maturity.")
        parser.add_argument(
            "--number", type=int, help="Version number (default: the published one)."
        )
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            questionnaire = Questionnaire.objects.get(code=options["code"])
        except Questionnaire.DoesNotExist:
            raise CommandError(f"No questionnaire with code {options['code']!r}.") from None
        if options["number"] is None:
            version = questionnaire.current_version()
            if version is None:
                raise CommandError("It has no published version; pass --number.")
        else:
            version = questionnaire.versions.filter(number=options["number"]).first()
            if version is None:
                raise CommandError(f"It has no version {options['version']}.")
        text = json.dumps(version_export(version), ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Wrote {version} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
