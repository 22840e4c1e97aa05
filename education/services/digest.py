"""The directors' weekly digest."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from education.models import (
    NotificationKind,
)
from education.selectors import portfolio_effort
from education.services.notifications import notification_for, notifications_write

log = logging.getLogger(__name__)


def weekly_digest(*, now: datetime | None = None) -> int:
    """One digest per active director per ISO week: overdue, escalated, done and coming."""
    moment = now or timezone.now()
    year, week, _weekday = timezone.localdate(moment).isocalendar()
    figures = portfolio_effort(now=moment)
    directors = list(User.objects.filter(is_active=True, role=Role.DIRECTOR))
    with transaction.atomic():
        notifications_write(
            [
                notification_for(
                    recipient=director,
                    kind=NotificationKind.DIGEST,
                    key=f"digest.{director.pk}.{year}-W{week:02d}",
                    params={**figures, "week": f"{year}-W{week:02d}"},
                )
                for director in directors
            ],
            now=moment,
        )
    return len(directors)
