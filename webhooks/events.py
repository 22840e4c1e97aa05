"""The event types integrators can subscribe to: one registry, read by the endpoint forms,
the API, the relay and the documentation's test (docs/integrations.md lists each type with
the same fields).

Each event is recorded by the service that causes it, in the same transaction
(``webhooks.services.event_record``), with ``data`` holding exactly ``fields``. A change
of what ``data`` holds that could break a receiver is a new ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_ASSESSMENT = (
    "assessment", "engagement", "client", "questionnaire_version", "status", "assessor",
    "maturity", "defensiveness", "submitted_at", "reviewed_at", "url",
)  # fmt: skip
_ACTION = (
    "action", "engagement", "client", "client_name", "title", "action_type", "status", "owner",
    "due_date", "completed_at", "url",
)  # fmt: skip
_CLIENT = ("client", "name", "segment", "size", "country", "owner", "archived", "url")
_RESPONSE = ("round", "invitation", "stakeholder", "engagement", "client", "language",
             "answered", "questions", "finished_at", "url")  # fmt: skip
_ROUND = ("round", "engagement", "client", "assessment", "raters", "within_one", "kappa",
          "reconciled_at", "url")  # fmt: skip
_ENGAGEMENT = ("engagement", "client", "client_name", "process_type", "phase",
               "previous_phase", "url")  # fmt: skip


@dataclass(frozen=True)
class EventType:
    name: str
    label: str | Promise
    fields: tuple[str, ...]  # the keys of the payload's "data"
    version: int = 1


_TYPES = (
    EventType("assessment.submitted", _("An assessment was submitted"), _ASSESSMENT),
    EventType("assessment.approved", _("An assessment was approved"), _ASSESSMENT),
    EventType("assessment.returned", _("An assessment was returned for changes"), _ASSESSMENT),
    EventType("education_action.created", _("An education action was created"), _ACTION),
    EventType("education_action.completed", _("An education action was completed"), _ACTION),
    EventType("education_action.overdue", _("An education action went overdue"), _ACTION),
    EventType("education_action.escalated", _("An overdue action was escalated"), _ACTION),
    EventType("client.created", _("A client was created"), _CLIENT),
    EventType("client.updated", _("A client was changed"), _CLIENT),
    EventType("client.archived", _("A client was archived"), _CLIENT),
    EventType("engagement.phase_changed", _("An engagement changed phase"), _ENGAGEMENT),
    EventType("client_response.received", _("A client's stakeholder finished a survey"), _RESPONSE),
    EventType("round.reconciled", _("A round's raters were reconciled"), _ROUND),
)
EVENT_TYPES: dict[str, EventType] = {t.name: t for t in _TYPES}

# Sent only by "send test event", to one endpoint, whatever it subscribes to.
TEST_EVENT = EventType("webhook.test", _("Test event"), ("endpoint", "message"))


def choices() -> list[tuple[str, str]]:
    return [(t.name, f"{t.name} — {t.label}") for t in _TYPES]
