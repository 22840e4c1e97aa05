"""Reads of accounts: the security log's events as exported, and a user's data."""

from __future__ import annotations

from typing import Any

from accounts.models import SecurityEvent, User
from core.privacy import about_user


def security_event_json(event: SecurityEvent) -> dict[str, Any]:
    """One event as a line of the JSON-lines export (and of a person's data export)."""
    return {
        "at": event.at.isoformat(),
        "event": event.kind,
        "user_id": event.user_id,
        "username": event.username,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "path": event.path,
        "detail": event.detail,
    }


def user_personal_data(user: User) -> dict[str, Any]:
    """Everything held about one user (a subject's access request): their account — not
    the password's hash — and each app's rows about them (core.privacy's places)."""
    account = {
        field.attname: getattr(user, field.attname)
        for field in User._meta.concrete_fields
        if field.attname != "password"
    }
    return {"user": account, **about_user(user.pk)}
