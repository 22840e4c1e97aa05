"""Education actions: created, changed, completed, skipped and reopened by people."""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from assessments.models import Assessment, AssessmentStatus
from clients.models import Engagement
from clients.selectors import clients_visible_to
from education.events import action_data_of
from education.models import (
    ActionStatus,
    ActionType,
    EducationAction,
    NotificationKind,
)
from education.services.notifications import (
    Notice,
    action_params,
    notification_for,
    notifications_write,
)
from education.services.scheduling import reschedule
from webhooks.services import event_record

# An action is planned within this many years, not further.
MAX_DUE_DATE_YEARS = 5

log = logging.getLogger(__name__)


def action_may_change(*, action: EducationAction, user: User) -> bool:
    """Whoever may see the client may work on its plan: the whole team shares it."""
    return clients_visible_to(user).filter(pk=action.client_id).exists()


def _check_owner(owner: User, engagement: Engagement) -> None:
    client = engagement.client
    if not owner.is_active or owner.role not in (Role.ACCOUNT_MANAGER, Role.DIRECTOR):
        raise ValidationError(
            {"owner": _("The owner must be an active account manager or director.")}
        )
    if (
        owner.role == Role.ACCOUNT_MANAGER
        and owner.pk != client.owner_id
        and not client.team_members.filter(pk=owner.pk).exists()
    ):
        raise ValidationError({"owner": _("This person is not on the client's team.")})


def _check_due_date(due_date: date | None) -> None:
    if due_date is None:
        raise ValidationError({"due_date": _("Give a due date.")})
    today = timezone.localdate()
    if due_date < today:
        raise ValidationError({"due_date": _("The due date cannot be in the past.")})
    if due_date > today + timedelta(days=365 * MAX_DUE_DATE_YEARS):
        raise ValidationError(
            {"due_date": _("Plan within %(years)s years.") % {"years": MAX_DUE_DATE_YEARS}}
        )


def _clean_text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: _("Remove the invisible control character (NUL).")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep it under %(limit)s characters.") % {"limit": limit}})
    return value


def _clean_audience(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({"audience": _("List the stakeholder roles as text.")})
    cleaned = [v.strip() for v in value if v.strip()]
    if len(cleaned) > 20 or any(len(v) > 100 for v in cleaned):
        raise ValidationError({"audience": _("Name at most 20 roles of up to 100 characters.")})
    return cleaned


def _latest_submitted(engagement_id: int) -> Assessment | None:
    return (
        Assessment.objects.filter(
            engagement_id=engagement_id,
            status__in=[AssessmentStatus.SUBMITTED, AssessmentStatus.APPROVED],
            submitted_at__isnull=False,
        )
        .defer("result")
        .order_by("-submitted_at", "-id")
        .first()
    )


def _assigned(action: EducationAction, by: User) -> Notice | None:
    if action.owner_id == by.pk:
        return None
    return notification_for(
        recipient=action.owner,
        kind=NotificationKind.ASSIGNED,
        key=f"assigned.{action.pk}.{uuid.uuid4().hex}",
        action=action,
        params={**action_params(action), "by": str(by)},
    )


@transaction.atomic
def action_create(
    *,
    engagement: Engagement,
    by: User,
    action_type: str,
    title: str,
    due_date: date | None,
    description: str = "",
    owner: User | None = None,
    audience: Any = (),
    every_weeks: int | None = None,
) -> EducationAction:
    """An action added by hand to the engagement's plan. Its uplift is measured against
    the engagement's latest assessment, the one it sets out to improve on."""
    title = _clean_text(title, "title", 200)
    if not title:
        raise ValidationError({"title": _("Give the action a title.")})
    if action_type not in ActionType.values:
        raise ValidationError({"action_type": _("Choose a type from the list.")})
    _check_due_date(due_date)
    assert due_date is not None
    owner = owner or engagement.client.owner
    _check_owner(owner, engagement)
    if every_weeks is not None and not 1 <= every_weeks <= 52:
        raise ValidationError({"every_weeks": _("Repeat every 1 to 52 weeks.")})
    action = EducationAction(
        engagement=engagement,
        client=engagement.client,
        source_assessment=_latest_submitted(engagement.pk),
        action_type=action_type,
        title=title,
        description=_clean_text(description, "description", 5000),
        owner=owner,
        audience=_clean_audience(audience),
        due_date=due_date,
        every_weeks=every_weeks,
    )
    reschedule(action)
    action.save()
    notice = _assigned(action, by)
    if notice:
        notifications_write([notice])
    event_record("education_action.created", action_data_of(action))
    return action


def _lock(action: EducationAction, by: User) -> EducationAction:
    """The action, locked, if ``by`` may change it."""
    locked = (
        EducationAction.objects.select_for_update(of=("self",))
        .select_related("client", "engagement__client", "template", "owner")
        .get(pk=action.pk)
    )
    if not action_may_change(action=locked, user=by):
        raise PermissionDenied(_("You cannot change this client's plan."))
    return locked


def _lock_open(action: EducationAction, by: User) -> EducationAction:
    """The action, locked, if ``by`` may change it and it is still planned."""
    locked = _lock(action, by)
    if locked.status != ActionStatus.PLANNED:
        raise ValidationError(_("This action is already closed."), code="closed")
    return locked


UPDATABLE = ("title", "description", "action_type", "due_date", "owner", "audience", "every_weeks")


@transaction.atomic
def action_update(*, action: EducationAction, by: User, **fields: Any) -> EducationAction:
    """Edit, reassign (``owner``) or reschedule (``due_date``) a planned action.

    A new due date starts the reminders over; a new owner is told.
    """
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"action_update does not take {sorted(unknown)}")
    action = _lock(action, by)
    if action.status != ActionStatus.PLANNED:
        raise ValidationError(_("This action is closed; reopen it to change it."), code="closed")
    previous_owner, previous_due = action.owner_id, action.due_date
    if "title" in fields:
        title = _clean_text(fields["title"], "title", 200)
        if not title and not action.template_id:
            raise ValidationError({"title": _("Give the action a title.")})
        action.title = title
    if "description" in fields:
        action.description = _clean_text(fields["description"], "description", 5000)
    if "action_type" in fields:
        if fields["action_type"] not in ActionType.values:
            raise ValidationError({"action_type": _("Choose a type from the list.")})
        action.action_type = fields["action_type"]
    if "audience" in fields:
        action.audience = _clean_audience(fields["audience"])
    if "every_weeks" in fields:
        every = fields["every_weeks"]
        if every is not None and not 1 <= every <= 52:
            raise ValidationError({"every_weeks": _("Repeat every 1 to 52 weeks.")})
        action.every_weeks = every
    if "due_date" in fields and fields["due_date"] != previous_due:
        _check_due_date(fields["due_date"])
        action.due_date = fields["due_date"]
        action.reminded_at = action.overdue_at = action.escalated_at = None
    if "owner" in fields and fields["owner"] is not None and fields["owner"].pk != previous_owner:
        _check_owner(fields["owner"], action.engagement)
        action.owner = fields["owner"]
    reschedule(action)
    action.save()
    if action.owner_id != previous_owner:
        notice = _assigned(action, by)
        if notice:
            notifications_write([notice])
    return action


def _close(action: EducationAction, *, by: User, status: str, **texts: str) -> EducationAction:
    """Done or skipped: who and when, and no more reminders (a recurring series goes on)."""
    for name, value in texts.items():
        setattr(action, name, value)
    action.status = status
    action.completed_at = timezone.now()
    action.completed_by = by
    reschedule(action)
    action.save()
    return action


@transaction.atomic
def action_complete(*, action: EducationAction, by: User, outcome: str) -> EducationAction:
    """Done, with what came of it (the outcome is what the next review reads)."""
    action = _lock_open(action, by)
    outcome = _clean_text(outcome, "outcome", 5000)
    if not outcome:
        raise ValidationError({"outcome": _("Say what came of it.")})
    action = _close(action, by=by, status=ActionStatus.DONE, outcome=outcome)
    event_record("education_action.completed", action_data_of(action))
    return action


@transaction.atomic
def action_skip(*, action: EducationAction, by: User, reason: str) -> EducationAction:
    """Not done, on purpose — with the reason, so the team learns from it."""
    action = _lock_open(action, by)
    reason = _clean_text(reason, "skip_reason", 500)
    if not reason:
        raise ValidationError({"skip_reason": _("Say why it is skipped.")})
    return _close(action, by=by, status=ActionStatus.SKIPPED, skip_reason=reason)


@transaction.atomic
def action_reopen(*, action: EducationAction, by: User) -> EducationAction:
    """Undo a completion or a skip made by mistake."""
    action = _lock(action, by)
    if action.status == ActionStatus.PLANNED:
        return action
    if action.uplift_assessment_id:
        raise ValidationError(
            _("Its uplift has been measured by a later assessment; add a new action instead."),
            code="measured",
        )
    action.status = ActionStatus.PLANNED
    action.outcome = action.skip_reason = ""
    action.completed_at = None
    action.completed_by = None
    reschedule(action)
    action.save()
    return action
