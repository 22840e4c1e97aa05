from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from assessments.services import DocumentProblems, version_import, version_publish


class Command(BaseCommand):
    help = (
        "Import a questionnaire version from JSON as a new draft (--publish to publish it). "
        "A malformed file is refused whole, with every problem and where it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--as", dest="username", help="Who is recorded as publishing it.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open(options["file"], encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"Not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"
            ) from None
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
            for problem in problems.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(problems.problems)} problem(s); nothing was imported."
            ) from None
        self.stdout.write(f"Imported {version}.")
