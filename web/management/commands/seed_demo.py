from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from web.demo import DEMO_USERS, seed_demo


class Command(BaseCommand):
    help = (
        "Load a believable demo portfolio and the demo logins (director, manager, manager2, "
        "admin; password 'demo'). Idempotent: running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients", type=int, default=40, help="How many demo clients (default 40)."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load demo data even with DEBUG off (demo logins have a public password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: the demo logins have a public "
                "password. Use --force if this really is a demo or benchmark database."
            )
        if options["clients"] < 0:
            raise CommandError("--clients must be zero or more.")
        started = time.perf_counter()
        report = seed_demo(clients=options["clients"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Demo portfolio: {report.clients_created} clients created, "
            f"{report.clients_existing} already there, in {elapsed:.1f} s."
        )
        for label, count in report.rows_created.items():
            self.stdout.write(f"  {count:>8} {label}")
        if report.users_created:
            self.stdout.write(f"Users created: {', '.join(report.users_created)}")
        logins = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write(f"Demo logins: {logins} (password: {settings.DEMO_PASSWORD})")
