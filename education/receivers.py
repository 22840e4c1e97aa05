"""What education does when something happens elsewhere."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.access import DIRECTORS
from accounts.models import User
from assessments.models import Assessment
from education.models import NotificationKind
from education.services import notification_for, notifications_write, plan_request
from webhooks.models import Endpoint


def plan_on_submit(sender: Any, *, assessment: Assessment, **kwargs: Any) -> None:
    """A submitted assessment asks for its engagement's plan, in the submit's transaction."""
    plan_request(assessment=assessment)


def tell_directors_endpoint_disabled(sender: Any, *, endpoint: Endpoint, **kwargs: Any) -> None:
    """Directors and administrators (who manage webhooks) hear that an endpoint was turned
    off after a run of failures, in the transaction that turned it off."""
    assert endpoint.disabled_at is not None
    people = User.objects.filter(is_active=True, role__in=DIRECTORS)
    notifications_write(
        [
            notification_for(
                recipient=person,
                kind=NotificationKind.WEBHOOK_DISABLED,
                key=f"webhook_disabled.{endpoint.pk}.{endpoint.disabled_at.isoformat()}.{person.pk}",
                params={
                    "endpoint": endpoint.pk,
                    "url": endpoint.url,
                    "failures": endpoint.consecutive_failures,
                    "since": (
                        timezone.localdate(endpoint.failing_since).isoformat()
                        if endpoint.failing_since
                        else ""
                    ),
                    "reason": endpoint.disabled_reason,
                },
            )
            for person in people
        ]
    )
