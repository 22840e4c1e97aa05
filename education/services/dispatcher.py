"""The one periodic dispatcher: due actions (reminders, overdue marks, escalations,
recurrences), plans no worker built, reassessment prompts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from core.sql import as_columns
from education import channels, schedule
from education.events import action_data, action_data_of
from education.models import (
    EducationAction,
    EducationPlan,
    NotificationKind,
    PlanStatus,
    ReassessmentSchedule,
)
from education.services import plans
from education.services.notifications import (
    Notice,
    notice_params,
    notices_write,
    notification_for,
    notifications_write,
)
from education.services.relay import pass_deadline
from education.services.scheduling import policy, reschedule, state_of
from voice.services import invitations_remind, rounds_close_due
from webhooks.services import events_record

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    actions: int = 0
    batches: int = 0
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    spawned: int = 0
    plans: int = 0
    reassessments: int = 0
    client_reminders: int = 0
    rounds_closed: int = 0
    queries_per_batch: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "actions": self.actions,
            "batches": self.batches,
            "reminders": self.reminders,
            "overdue": self.overdue,
            "escalations": self.escalations,
            "spawned": self.spawned,
            "plans": self.plans,
            "reassessments": self.reassessments,
            "client_reminders": self.client_reminders,
            "rounds_closed": self.rounds_closed,
        }


def _directors() -> list[tuple[int, str]]:
    return list(User.objects.filter(is_active=True, role=Role.DIRECTOR).values_list("pk", "email"))


# What a dispatcher pass reads of each claimed action: its schedule state and what its
# notifications say. Tuples, not model instances: a batch is 500 rows.
CLAIM_FIELDS = (
    "id",
    "status",
    "due_date",
    "every_weeks",
    "reminded_at",
    "overdue_at",
    "escalated_at",
    "next_spawned",
    "recurrence_closed",
    "owner_id",
    "owner__email",
    "client_id",
    "client__name",
    "template__title",
    "title",
    "action_type",
    "engagement_id",
)
# On PostgreSQL a batch's new state is written with one statement from arrays
# (``unnest``), instead of the ORM's bulk_update — a CASE per row and column, which took
# 1.2 s of a 500-row batch (its notifications too: ``notices_write``). Other databases
# take the ORM path; tests run both and compare what they store.
SET_BASED_WRITES = True


@dataclass
class _Batch:
    """What one dispatcher batch writes."""

    states: list[tuple[Any, ...]] = field(default_factory=list)
    # Webhook events: (type, data) of actions gone overdue, escalated, created.
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    spawn_ids: list[int] = field(default_factory=list)


def dispatch_actions(
    *,
    now: datetime | None = None,
    # 1,000 rows a transaction: measured 2.3x the raw SQL drain, against 2.6x at 500
    # (bench/drain.py); locks are held for a third of a second.
    batch_size: int = 1000,
    max_batches: int | None = None,
    budget_seconds: float | None = None,
) -> DispatchReport:
    """Claim the actions whose time has come and do what is due to each.

    One transaction per batch: claim with ``FOR UPDATE SKIP LOCKED`` (a second worker takes
    the next rows, never the same), apply the pure schedule, write the notifications (the
    outbox) and the new state, commit. Three statements a batch whatever its size, four
    when recurring actions spawn their next occurrence.
    """
    report = DispatchReport()
    rules = policy()
    directors = _directors()
    deadline = pass_deadline(budget_seconds)
    while (max_batches is None or report.batches < max_batches) and time.monotonic() < deadline:
        moment = now or timezone.now()
        with transaction.atomic():
            rows = list(
                EducationAction.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=moment)
                .order_by("next_check_at", "id")
                .values_list(*CLAIM_FIELDS)[:batch_size]
            )
            if not rows:
                break
            report.batches += 1
            report.actions += len(rows)
            batch = _Batch()
            for row in rows:
                _dispatch_one(row, moment, rules, directors, batch, report)
            notices_write(batch.notices, moment, set_based=SET_BASED_WRITES)
            if batch.spawn_ids:
                spawned = [
                    nxt
                    for action in EducationAction.objects.filter(
                        pk__in=batch.spawn_ids
                    ).select_related("client", "template")
                    if (nxt := _next_occurrence(action)) is not None
                ]
                batch.events += [
                    ("education_action.created", action_data_of(action))
                    for action in _insert_spawned(spawned)
                ]
                report.spawned += len(spawned)
            events_record(batch.events, now=moment)
            _write_states(batch.states, moment)
        if len(rows) < batch_size:
            break
    return report


def _dispatch_one(
    row: tuple[Any, ...],
    moment: datetime,
    rules: schedule.Policy,
    directors: list[tuple[int, str]],
    batch: _Batch,
    report: DispatchReport,
) -> None:
    (pk, status, due_date, every_weeks, reminded_at, overdue_at, escalated_at, next_spawned,
     recurrence_closed, owner_id, owner_email, client_id, client_name, template_title, title,
     action_type, engagement_id) = row  # fmt: skip
    state, events = schedule.advance(
        schedule.State(
            status=status,
            due_date=due_date,
            every_weeks=every_weeks,
            reminded_at=reminded_at,
            overdue_at=overdue_at,
            escalated_at=escalated_at,
            next_spawned=next_spawned,
            recurrence_closed=recurrence_closed,
        ),
        moment,
        rules,
    )
    batch.states.append(
        (
            pk,
            state.reminded_at,
            state.overdue_at,
            state.escalated_at,
            state.next_spawned,
            schedule.next_check(state, rules),
        )
    )
    if not events:
        return
    due = due_date.isoformat()
    params = notice_params(
        pk=pk,
        title=title,
        template_title=template_title,
        action_type=action_type,
        client_name=client_name,
        client_id=client_id,
        due_date=due_date,
    )

    def notice(recipient: int, email: str, kind: str, key: str, extra: dict[str, Any]) -> None:
        through = channels.for_recipient(channels.Recipient(recipient, email))
        batch.notices.append(Notice(recipient, kind, key, pk, params | extra, through))

    def event(kind: str) -> None:
        batch.events.append(
            (
                kind,
                action_data(
                    pk=pk,
                    engagement_id=engagement_id,
                    client_id=client_id,
                    client_name=client_name,
                    title=title,
                    template_title=template_title,
                    action_type=action_type,
                    status=status,
                    owner_id=owner_id,
                    due_date=due_date,
                    completed_at=None,  # only open actions go overdue
                ),
            )
        )

    for happened in events:
        if happened is schedule.Event.REMIND:
            report.reminders += 1
            notice(owner_id, owner_email, NotificationKind.REMINDER, f"reminder.{pk}.{due}", {})
        elif happened is schedule.Event.OVERDUE:
            report.overdue += 1
            notice(owner_id, owner_email, NotificationKind.OVERDUE, f"overdue.{pk}.{due}", {})
            event("education_action.overdue")
        elif happened is schedule.Event.ESCALATE:
            report.escalations += 1
            event("education_action.escalated")
            for director_id, email in directors:
                notice(
                    director_id,
                    email,
                    NotificationKind.ESCALATION,
                    f"escalation.{pk}.{due}.{director_id}",
                    {"owner": owner_id},
                )
        elif happened is schedule.Event.SPAWN:
            batch.spawn_ids.append(pk)


def _write_states(states: list[tuple[Any, ...]], moment: datetime) -> None:
    """Store each claimed action's flags and its next check."""
    if connection.vendor == "postgresql" and SET_BASED_WRITES:
        columns = as_columns(states, 6)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE education_educationaction AS a
                   SET reminded_at = v.reminded_at, overdue_at = v.overdue_at,
                       escalated_at = v.escalated_at, next_spawned = v.next_spawned,
                       next_check_at = v.next_check_at, updated_at = %s
                  FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[],
                              %s::timestamptz[], %s::boolean[], %s::timestamptz[])
                       AS v (id, reminded_at, overdue_at, escalated_at, next_spawned,
                             next_check_at)
                 WHERE a.id = v.id
                """,
                [moment, *columns],
            )
        return
    actions = []
    for pk, reminded_at, overdue_at, escalated_at, next_spawned, next_check_at in states:
        actions.append(
            EducationAction(
                pk=pk,
                reminded_at=reminded_at,
                overdue_at=overdue_at,
                escalated_at=escalated_at,
                next_spawned=next_spawned,
                next_check_at=next_check_at,
                updated_at=moment,
            )
        )
    EducationAction.objects.bulk_update(
        actions,
        [
            "reminded_at",
            "overdue_at",
            "escalated_at",
            "next_spawned",
            "next_check_at",
            "updated_at",
        ],
    )


def _insert_spawned(spawned: list[EducationAction]) -> list[EducationAction]:
    """Insert the next occurrences; the rows, with their ids. Those of a plan's template
    may already exist (a pass run twice): inserted ignoring that conflict, and read back
    by their unique key."""
    keyed = [a for a in spawned if a.plan_id and a.template_id]
    free = [a for a in spawned if not (a.plan_id and a.template_id)]
    created = EducationAction.objects.bulk_create(free)
    if keyed:
        EducationAction.objects.bulk_create(keyed, ignore_conflicts=True)
        which = Q()
        for action in keyed:
            which |= Q(
                plan_id=action.plan_id, template_id=action.template_id, occurrence=action.occurrence
            )
        created += EducationAction.objects.filter(which).select_related("client", "template")
    return created


def _next_occurrence(action: EducationAction) -> EducationAction | None:
    due = schedule.next_due_date(state_of(action))
    if due is None:
        return None
    nxt = EducationAction(
        engagement_id=action.engagement_id,
        client=action.client,
        plan_id=action.plan_id,
        template=action.template,
        source_assessment_id=action.source_assessment_id,
        occurrence=action.occurrence + 1,
        action_type=action.action_type,
        title=action.title,
        description=action.description,
        reasons=action.reasons,
        owner_id=action.owner_id,
        audience=action.audience,
        target_dimensions=action.target_dimensions,
        due_date=due,
        every_weeks=action.every_weeks,
    )
    reschedule(nxt)
    return nxt


def sweep_pending_plans(*, now: datetime | None = None) -> int:
    """Build plans no worker has built: their message was lost or never published.

    A plan whose build raises is counted and put back with backoff (``plan_build_failed``)
    and the sweep goes on: one broken plan must not stop the dispatcher's pass."""
    moment = now or timezone.now()
    ids = list(
        EducationPlan.objects.filter(status=PlanStatus.PENDING, sweep_at__lte=moment)
        .order_by("sweep_at")
        .values_list("pk", flat=True)[:200]
    )
    built = 0
    for pk in ids:
        try:
            built += plans.plan_build(plan_id=pk) is not None
        except SoftTimeLimitExceeded:
            raise  # out of time: not the plan's fault; the next tick goes on
        except Exception as error:
            log.exception("building plan %s failed", pk)
            plans.plan_build_failed(plan_id=pk, error=error)
    return built


@transaction.atomic
def prompt_reassessments(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Tell owners once that an engagement is due for a new assessment."""
    moment = now or timezone.now()
    rows = list(
        ReassessmentSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(prompted_at__isnull=True, due_at__lte=moment)
        .select_related("engagement__client__owner", "last_assessment")
        .order_by("due_at")[:batch_size]
    )
    notices = []
    for row in rows:
        client = row.engagement.client
        if not client.is_active:
            row.prompted_at = moment
            continue
        notices.append(
            notification_for(
                recipient=client.owner,
                kind=NotificationKind.REASSESSMENT,
                key=f"reassess.{row.engagement_id}.{row.last_assessment_id}",
                params={
                    "client": client.name,
                    "client_id": client.pk,
                    "engagement": row.engagement.get_process_type_display(),
                    "last_assessed": timezone.localdate(
                        row.last_assessment.submitted_at or moment
                    ).isoformat(),
                    "level": row.last_assessment.maturity_level,
                },
            )
        )
        row.prompted_at = moment
    notifications_write(notices, relay_soon=False, now=moment)
    ReassessmentSchedule.objects.bulk_update(rows, ["prompted_at"])
    return len(notices)


def dispatch(*, now: datetime | None = None, batch_size: int = 1000) -> DispatchReport:
    """The dispatcher's whole pass: lost plans, due actions, reassessment prompts; then
    the outbox is relayed by the caller (see tasks.dispatch)."""
    report = dispatch_actions(now=now, batch_size=batch_size)
    report.plans = sweep_pending_plans(now=now)
    report.reassessments = prompt_reassessments(now=now)
    # The client's voice: a reminder to each respondent yet to answer a round closing soon.
    report.client_reminders = invitations_remind(now=now)
    # Rounds past their closing day close (their gap may call for education).
    report.rounds_closed = rounds_close_due(now=now)
    return report
