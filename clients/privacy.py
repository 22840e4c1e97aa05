"""Where the clients app keeps personal data (core.privacy's registry)."""

from __future__ import annotations

from clients.models import (
    AuditEvent,
    Client,
    Engagement,
    PastExperience,
    Stakeholder,
    TimelineEntry,
)
from core.privacy import FreeText, UserData, register


def register_places() -> None:
    register(
        FreeText("clients.notes", Client, ("notes",), "id"),
        FreeText("engagements.description", Engagement, ("description",), "client_id"),
        FreeText("stakeholders", Stakeholder, ("notes",), "client_id"),
        FreeText("past_experiences", PastExperience, ("legacy_description", "notes"), "client_id"),
        FreeText("timeline", TimelineEntry, ("title", "body"), "client_id"),
        FreeText("audit", AuditEvent, ("subject", "changes"), "client_id"),
        UserData("clients_owned", Client, "owner_id", ("id", "name")),
        UserData(
            "timeline_entries_written",
            TimelineEntry,
            "author_id",
            ("id", "client_id", "occurred_on", "title", "created_at"),
        ),
        UserData(
            "client_changes_made", AuditEvent, "actor_id", ("id", "client_id", "action", "at")
        ),
    )
