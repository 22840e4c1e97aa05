"""Personal data (LGPD, GDPR): where each app keeps it, so one export, one erasure and one
retention purge cover them all. A registry, like the notification channels: each app
registers its places in its AppConfig.ready — a new model holding personal data is a line
there, not an edit here (core imports no app).

- ``FreeText``: fields where people write about a client's people (a timeline entry, an
  evidence note, an action's outcome). Erasing a stakeholder redacts their name, e-mail
  and phone wherever these occur in that client's free text; exporting lists the rows
  that mention them.
- ``UserData``: rows about one user, for the export of everything held about them.
- ``StakeholderData``: rows about one of a client's people (a survey invitation, their
  answers, the e-mails sent to them), for the export of everything held about them.
- ``Retention``: rows deleted once older than a setting's number of days (0: kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

ERASED = "[erased]"


@dataclass(frozen=True)
class FreeText:
    label: str  # how the export names these rows: "timeline", "answers.note"
    model: type[Model]
    fields: tuple[str, ...]  # text fields, or JSON fields whose strings are text
    client: str  # the lookup from the model to its client's id: "engagement__client_id"


@dataclass(frozen=True)
class UserData:
    label: str
    model: type[Model]
    user: str  # the lookup from the model to the user's id
    fields: tuple[str, ...]  # what the export shows of each row


@dataclass(frozen=True)
class StakeholderData:
    label: str
    model: type[Model]
    stakeholder: str  # the lookup from the model to the stakeholder's id
    fields: tuple[str, ...]  # what the export shows of each row (lookups allowed)


@dataclass(frozen=True)
class Retention:
    label: str
    model: type[Model]
    older_than: str  # the date field that ages the row
    days_setting: str  # the setting with the number of days (0: keep for ever)
    only: Q = field(default_factory=Q)  # which rows age at all (e.g. read notifications)


_FREE_TEXT: list[FreeText] = []
_USER_DATA: list[UserData] = []
_STAKEHOLDER_DATA: list[StakeholderData] = []
_RETENTION: list[Retention] = []


def register(*places: FreeText | UserData | StakeholderData | Retention) -> None:
    registries: dict[type, list[Any]] = {
        FreeText: _FREE_TEXT,
        UserData: _USER_DATA,
        StakeholderData: _STAKEHOLDER_DATA,
        Retention: _RETENTION,
    }
    for place in places:
        registry = registries[type(place)]
        if place not in registry:
            registry.append(place)


def free_text() -> tuple[FreeText, ...]:
    return tuple(_FREE_TEXT)


def user_data() -> tuple[UserData, ...]:
    return tuple(_USER_DATA)


def retention() -> tuple[Retention, ...]:
    return tuple(_RETENTION)


def stakeholder_rows(stakeholder_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every registered row about one stakeholder, by place (one query a place)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for place in _STAKEHOLDER_DATA:
        rows = place.model._default_manager.filter(**{place.stakeholder: stakeholder_id})
        found[place.label] = list(rows.order_by("pk").values(*place.fields))
    return found


# --- Mentions of a person in a client's free text -------------------------------------------


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """The needles (a name, an address, a phone) as one case-insensitive pattern that
    matches whole words only: erasing "Ana" leaves "banana" alone."""
    words = sorted({n.strip() for n in needles if n and len(n.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)


def _mentioning(place: FreeText, client_id: int, needles: list[str]) -> QuerySet[Any]:
    condition = Q()
    for name in place.fields:
        for needle in needles:
            condition |= Q(**{f"{name}__icontains": needle})
    return place.model._default_manager.filter(condition, **{place.client: client_id})


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value


def mentions(client_id: int, needles: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the client's free text that mentions one of ``needles``, by place."""
    pattern = _pattern(needles)
    found: dict[str, list[dict[str, Any]]] = {}
    if pattern is None:
        return found
    words = [n.strip() for n in needles if n and len(n.strip()) >= 3]
    for place in _FREE_TEXT:
        for row in _mentioning(place, client_id, words):
            values = {name: getattr(row, name) for name in place.fields}
            if any(_redact(v, pattern) != v for v in values.values()):
                found.setdefault(place.label, []).append({"id": row.pk, **values})
    return found


def redact_mentions(client_id: int, needles: list[str]) -> int:
    """Replace ``needles`` with ``[erased]`` in all the client's free text; the number of
    rows changed. Run inside the erasure's transaction."""
    pattern = _pattern(needles)
    if pattern is None:
        return 0
    words = [n.strip() for n in needles if n and len(n.strip()) >= 3]
    changed = 0
    for place in _FREE_TEXT:
        for row in _mentioning(place, client_id, words).select_for_update():
            updates = {}
            for name in place.fields:
                value = getattr(row, name)
                redacted = _redact(value, pattern)
                if redacted != value:
                    updates[name] = redacted
            if updates:
                place.model._default_manager.filter(pk=row.pk).update(**updates)
                changed += 1
    return changed


# --- Everything about one user ----------------------------------------------------------------


def about_user(user_id: int) -> dict[str, Any]:
    """The registered rows about ``user_id``, each as its listed fields, by label."""
    held: dict[str, Any] = {}
    for place in _USER_DATA:
        queryset = place.model._default_manager.filter(**{place.user: user_id}).order_by("pk")
        held[place.label] = list(queryset.values(*place.fields))
    return held


# --- Retention ----------------------------------------------------------------------------------


def purge_expired(now: Any = None) -> dict[str, int]:
    """Delete what has outlived its retention setting; the rows deleted, by label."""
    now = now or timezone.now()
    deleted: dict[str, int] = {}
    for rule in _RETENTION:
        days = int(getattr(settings, rule.days_setting))
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        queryset = rule.model._default_manager.filter(
            rule.only, **{f"{rule.older_than}__lt": cutoff}
        )
        deleted[rule.label] = queryset.delete()[1].get(rule.model._meta.label, 0)
    return deleted
