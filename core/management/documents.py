"""The base of the commands that move JSON documents (questionnaires, playbooks) in and out:
reading and writing the file, and refusing a malformed one whole, every problem listed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Refused(Exception):
    """The document was refused; nothing was imported."""

    def __init__(self, problems: Iterable[object]) -> None:
        self.problems = [str(problem) for problem in problems]
        super().__init__(self.problems)


class ImportCommand(BaseCommand):
    """``manage.py <name> FILE``: :meth:`load` imports the parsed document and says what
    it imported, or raises :class:`Refused` with every problem."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def load(self, document: Any, **options: Any) -> str:
        raise NotImplementedError

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
            imported = self.load(document, **options)
        except Refused as refused:
            for problem in refused.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(refused.problems)} problem(s); nothing was imported."
            ) from None
        self.stdout.write(imported)


class ExportCommand(BaseCommand):
    """``manage.py <name> CODE [-o FILE]``: :meth:`document` returns what to write (the
    format the matching import command reads) and what it is, for the message."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("-o", "--output", help="A file to write (default: standard output).")

    def document(self, *, code: str, **options: Any) -> tuple[Any, str]:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        document, what = self.document(**options)
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(f"Wrote {what} to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
