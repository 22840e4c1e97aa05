from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from core.management.documents import ImportCommand, Refused
from education.services import playbook_import


class Command(ImportCommand):
    help = (
        "Create or replace a playbook from JSON (see education/data/default_playbook.json). "
        "A malformed file is refused whole, with every problem and where it is."
    )

    def load(self, document: Any, **options: Any) -> str:
        try:
            playbook = playbook_import(document=document)
        except ValidationError as error:
            raise Refused(
                [f"{path}: {'; '.join(messages)}" for path, messages in error.message_dict.items()]
                if hasattr(error, "error_dict")
                else error.messages
            ) from None
        return (
            f"Imported {playbook.code}: {playbook.templates.count()} templates, "
            f"{playbook.rules.count()} rules."
        )
