"""The default playbook ships as data (data/default_playbook.json) beside the default
questionnaire and is loaded after ``migrate`` — once: a playbook directors have tuned is
never overwritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import connections

from assessments.models import Questionnaire
from education.models import Playbook
from education.services import playbook_import

DEFAULT_DOCUMENT = Path(__file__).resolve().parent / "data" / "default_playbook.json"


def default_document() -> dict[str, Any]:
    return json.loads(DEFAULT_DOCUMENT.read_text(encoding="utf-8"))


def ensure_default_playbook() -> bool:
    document = default_document()
    if Playbook.objects.filter(code=document["code"]).exists():
        return False
    if not Questionnaire.objects.filter(code=document["questionnaire"]).exists():
        return False
    playbook_import(document=document)
    return True


def ensure_default_playbook_after_migrate(using: str = "default", **kwargs: Any) -> None:
    if Playbook._meta.db_table not in connections[using].introspection.table_names():
        return
    ensure_default_playbook()
