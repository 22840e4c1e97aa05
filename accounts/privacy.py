"""Where the accounts app keeps personal data (core.privacy's registry)."""

from __future__ import annotations

from accounts.models import SecurityEvent, Session
from core.privacy import Retention, UserData, register


def register_places() -> None:
    register(
        UserData(
            "security_events",
            SecurityEvent,
            "user_id",
            ("at", "kind", "username", "ip", "user_agent", "path", "detail"),
        ),
        Retention("security_events", SecurityEvent, "at", "SECURITY_LOG_RETENTION_DAYS"),
        Retention("expired_sessions", Session, "expire_date", "EXPIRED_SESSION_DAYS"),
    )
