from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboards.standings import standings_rebuild
from dashboards.summaries import summaries_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the dashboards' summaries (trend and education figures); with --standings, "
        "rebuild every engagement's standing from the assessments first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--standings", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["standings"]:
            count = standings_rebuild()
            self.stdout.write(f"{count} standings rebuilt.")
        state = summaries_rebuild()
        self.stdout.write(f"Summaries rebuilt in {state.seconds:.1f} s.")
