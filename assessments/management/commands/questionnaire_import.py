from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.models import User
from assessments.services import DocumentProblems, version_import, version_publish
from core.management.documents import ImportCommand, Refused


class Command(ImportCommand):
    help = (
        "Import a questionnaire version from JSON as a new draft (--publish to publish it). "
        "A malformed file is refused whole, with every problem and where it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--as", dest="username", help="Who is recorded as publishing it.")

    def load(self, document: Any, **options: Any) -> str:
        user = None
        if options["username"]:
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user named {options['username']!r}.")
        try:
            version = version_import(document=document, by=user)
            if options["publish"]:
                version = version_publish(version=version, by=user)
        except DocumentProblems as problems:
            raise Refused(problems.problems) from None
        return f"Imported {version}."
