from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from api.services import api_token_issue


class Command(BaseCommand):
    help = "Issue a new API token for USERNAME and print it once (only its digest is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--read-only", action="store_true", help="Allow only GET requests.")
        parser.add_argument("--name", default="", help="What will use the token.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is inactive.")
        name = options["name"] or (
            "read-only integration" if options["read_only"] else "integration"
        )
        token, raw = api_token_issue(user=user, name=name, read_only=options["read_only"])
        self.stdout.write(raw)
        scope = "read-only" if token.read_only else "read-write"
        self.stderr.write(
            f"Token {token.prefix} for {user.username} ({scope}). "
            "Store it now: it cannot be shown again. Revoke it in the admin under API tokens."
        )
