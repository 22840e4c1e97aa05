"""The inputs of an action's schedule (education/schedule.py is the pure rule): the
policy from the settings, an action's state, and its next check."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from education import schedule
from education.models import (
    EducationAction,
)

log = logging.getLogger(__name__)


def policy() -> schedule.Policy:
    return schedule.Policy(
        reminder_days=settings.EDUCATION_REMINDER_DAYS,
        escalate_after_days=settings.EDUCATION_ESCALATE_AFTER_DAYS,
        tz=timezone.get_current_timezone(),
    )


def state_of(action: EducationAction) -> schedule.State:
    return schedule.State(
        status=action.status,
        due_date=action.due_date,
        every_weeks=action.every_weeks,
        reminded_at=action.reminded_at,
        overdue_at=action.overdue_at,
        escalated_at=action.escalated_at,
        next_spawned=action.next_spawned,
        recurrence_closed=action.recurrence_closed,
    )


def reschedule(action: EducationAction) -> None:
    action.next_check_at = schedule.next_check(state_of(action), policy())
