"""``manage.py import_clients FILE [--as USERNAME]``: the upload page's import, for scripts
and for files too awkward to upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from clients.importing import import_clients, read_at_most


class Command(BaseCommand):
    help = (
        "Import clients from a CSV file (UTF-8, comma or semicolon). Every row is checked "
        "first; if any has an error, nothing is imported and the errors are listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file to import.")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="USERNAME",
            help="The user recorded as the author in each client's history (default: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["actor"])
        path: Path = options["file"]
        try:
            with path.open("rb") as stream:
                data = read_at_most(stream)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        result = import_clients(data, by=actor)
        if not result.ok:
            for problem in result.errors:
                self.stderr.write(str(problem))
            raise CommandError("Nothing was imported.")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {result.created} client{'s' * (result.created != 1)}.")
        )

    def _actor(self, username: str | None) -> User | None:
        if username is None:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No account has the username {username!r}.") from None
