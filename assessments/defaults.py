"""The default questionnaire ships as data (data/default_questionnaire.json) and is
loaded, published and made the default after ``migrate`` — idempotently, so every
database, the test databases included, has it exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db import connections

from assessments.models import Questionnaire
from assessments.services import questionnaire_set_default, version_import, version_publish

DEFAULT_DOCUMENT = Path(__file__).resolve().parent / "data" / "default_questionnaire.json"


def default_document() -> dict[str, Any]:
    return json.loads(DEFAULT_DOCUMENT.read_text(encoding="utf-8"))


def ensure_default_questionnaire() -> bool:
    """Load and publish the default questionnaire unless it is already there."""
    document = default_document()
    if Questionnaire.objects.filter(code=document["questionnaire"]["code"]).exists():
        return False
    version = version_import(document=document, by=None)
    version_publish(version=version, by=None)
    if not Questionnaire.objects.filter(is_default=True).exists():
        questionnaire_set_default(questionnaire=version.questionnaire, by=None)
    return True


def ensure_default_questionnaire_after_migrate(using: str = "default", **kwargs: Any) -> None:
    # Only once the tables exist (post_migrate also fires for a partial migrate).
    if Questionnaire._meta.db_table not in connections[using].introspection.table_names():
        return
    ensure_default_questionnaire()
