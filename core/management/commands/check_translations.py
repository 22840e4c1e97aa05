from __future__ import annotations

import shutil
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import languages
from core.translations import catalogue_paths, compile_catalogue, problems_in


class Command(BaseCommand):
    help = (
        "Fail when a Portuguese or Spanish translation is missing, fuzzy or not compiled. "
        "First extracts the strings of the code (needs gettext's xgettext) so a new "
        "untranslated string is caught."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-extract", action="store_true", help="Check the catalogues as they are."
        )
        parser.add_argument(
            "--compile", action="store_true", help="Write the .mo files from the .po files."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        locale_dir = settings.LOCALE_PATHS[0]
        if not options["no_extract"]:
            if shutil.which("xgettext") is None:
                raise CommandError(
                    "xgettext not found: install gettext (apt-get install gettext) or pass "
                    "--no-extract."
                )
            call_command(
                "makemessages",
                locale=list(languages.translated_locales()),
                no_location=True,
                no_obsolete=True,
                ignore_patterns=[".venv/*", "var/*", "static/*", "tests/*", "bench/*"],
                verbosity=0,
            )
        paths = catalogue_paths(locale_dir)
        if options["compile"]:
            for path in paths:
                compile_catalogue(path)
        problems = [problem for path in paths for problem in problems_in(path)]
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(problems)} translation problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                "Translations complete: " + ", ".join(languages.translated_locales())
            )
        )
