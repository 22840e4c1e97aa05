from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from education.services import playbook_import


class Command(BaseCommand):
    help = (
        "Create or replace a playbook from JSON (see education/data/default_playbook.json). "
        "A malformed file is refused whole, with every problem and where it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

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
        try:
            playbook = playbook_import(document=document)
        except ValidationError as error:
            problems = (
                [f"{path}: {'; '.join(messages)}" for path, messages in error.message_dict.items()]
                if hasattr(error, "error_dict")
                else error.messages
            )
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s); nothing was imported.") from None
        self.stdout.write(
            f"Imported {playbook.code}: {playbook.templates.count()} templates, "
            f"{playbook.rules.count()} rules."
        )
