"""What webhooks keep and for how long (core.privacy): events carry names of clients and
people's ids; they, their deliveries and attempts go after WEBHOOK_RETENTION_DAYS."""

from __future__ import annotations

from core.privacy import Retention, register
from webhooks.models import Event


def register_places() -> None:
    register(Retention("webhook_events", Event, "created_at", "WEBHOOK_RETENTION_DAYS"))
