"""What education does when something happens elsewhere."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.access import DIRECTORS
from accounts.models import User
from assessments.models import Assessment
from education.models import Notification, NotificationKind
from education.services import (
    notification_for,
    notification_to_stakeholder,
    notifications_write,
    plan_hear_gap,
    plan_request,
    plan_requested,
)
from education.services.plans import PLAN_RIDER
from voice.models import Invitation, Rater, Round
from webhooks.models import Endpoint


def plan_on_round_closed(sender: Any, *, round: Round, closed: bool = False, **kw: Any) -> None:
    """A round of the client's view closed: its gap may call for education now."""
    if closed:
        plan_hear_gap(engagement=round.engagement, round_id=round.pk)


def plan_on_submit(
    sender: Any, *, assessment: Assessment, ridden: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """A submitted assessment asks for its engagement's plan, in the submit's transaction
    — already, when the submit's statement carried PLAN_RIDER: then only a worker is told."""
    plan_id = (ridden or {}).get(PLAN_RIDER.name)
    if plan_id is None:
        plan_request(assessment=assessment)
    else:
        plan_requested(plan_id=plan_id)


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


def email_invitations(
    sender: Any, *, invitations: list[Invitation], reminder: bool, **kwargs: Any
) -> None:
    """A client's stakeholders get their link (or its reminder) by e-mail, written to the
    outbox in the transaction that issued it. A resent link is a new e-mail (its key
    holds the link's nonce); a reminder is sent once per closing day."""
    kind = NotificationKind.CLIENT_REMINDER if reminder else NotificationKind.CLIENT_INVITATION
    notifications_write(
        [
            notification_to_stakeholder(
                invitation=invitation,
                email=invitation.stakeholder.email,
                kind=kind,
                key=(
                    f"client_reminder.{invitation.pk}.{invitation.expires_at.date().isoformat()}"
                    if reminder
                    else f"client_invitation.{invitation.pk}.{invitation.nonce}"
                ),
            )
            for invitation in invitations
        ]
    )


def _rating_requested_key(rater: Rater) -> str:
    return f"rating_requested.{rater.round_id}.{rater.user_id}.{rater.sheet_id}"


def withdraw_rating_requests(sender: Any, *, raters: list[Rater], **kwargs: Any) -> None:
    """A rater taken off a round loses the request to fill their sheet, which goes with
    them: from the notification centre, and with it every delivery not sent yet (an
    e-mail already sent cannot be taken back; its link then finds no sheet)."""
    Notification.objects.filter(
        idempotency_key__in=[_rating_requested_key(rater) for rater in raters]
    ).delete()


def ask_raters(sender: Any, *, raters: list[Rater], **kwargs: Any) -> None:
    """Each new rater of a round hears that a sheet of their own waits for them."""
    notifications_write(
        [
            notification_for(
                recipient=rater.user,
                kind=NotificationKind.RATING_REQUESTED,
                key=_rating_requested_key(rater),
                params={
                    "client": rater.round.engagement.client.name,
                    "client_id": rater.round.engagement.client_id,
                    "engagement": rater.round.engagement.get_process_type_display(),
                    "sheet": rater.sheet_id,
                    "by": str(rater.added_by or ""),
                    "due_date": rater.round.closes_on.isoformat(),
                },
            )
            for rater in raters
        ]
    )
