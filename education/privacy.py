"""Where the education app keeps personal data (core.privacy's registry)."""

from __future__ import annotations

from django.db.models import Q

from core.privacy import FreeText, Retention, StakeholderData, UserData, register
from education.models import EducationAction, Notification


def register_places() -> None:
    register(
        FreeText(
            "education_actions",
            EducationAction,
            ("title", "description", "outcome", "skip_reason", "audience"),
            "client_id",
        ),
        FreeText("notifications", Notification, ("params",), "action__client_id"),
        UserData(
            "actions_owned",
            EducationAction,
            "owner_id",
            ("id", "client_id", "title", "status", "due_date", "completed_at"),
        ),
        UserData(
            "notifications_received",
            Notification,
            "recipient_id",
            ("id", "kind", "params", "created_at", "read_at"),
        ),
        StakeholderData(
            "client_voice.emails",
            Notification,
            "invitation__stakeholder_id",
            ("id", "kind", "invitation_id", "created_at"),
        ),
        # E-mails are rendered when sent and never stored; what ages is the notification
        # itself once read (its deliveries go with it).
        Retention(
            "read_notifications",
            Notification,
            "created_at",
            "NOTIFICATION_RETENTION_DAYS",
            only=Q(read_at__isnull=False),
        ),
    )
