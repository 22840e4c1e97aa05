from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from assessments.models import Questionnaire
from assessments.services import version_export
from core.management.documents import ExportCommand


class Command(ExportCommand):
    help = "Write a questionnaire version as JSON (the import format). Default: current version."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--number", type=int, help="Version number (default: the published one)."
        )

    def document(self, *, code: str, **options: Any) -> tuple[Any, str]:
        questionnaire = Questionnaire.objects.filter(code=code).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire with code {code!r}.")
        if options["number"] is None:
            version = questionnaire.current_version()
            if version is None:
                raise CommandError("It has no published version; pass --number.")
        else:
            version = questionnaire.versions.filter(number=options["number"]).first()
            if version is None:
                raise CommandError(f"It has no version {options['number']}.")
        return version_export(version), str(version)
