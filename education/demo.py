"""Education history for the demo portfolio, written in bulk beside the seeded assessments.

Each seeded assessment gets the plan the real playbook would build (the same pure matcher);
actions of earlier assessments were mostly done — with their uplift measured by the next
assessment, as the services would — and the latest plan is under way: some done, some due
soon, a few overdue (already marked and escalated, with the notifications that said so), so
the first dispatcher pass of a demo does not flood anyone's inbox.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from assessments.models import Assessment, DimensionResult
from clients.models import Engagement
from education import cadence, planning, schedule
from education.models import (
    ActionStatus,
    Delivery,
    DeliveryState,
    EducationAction,
    EducationPlan,
    Notification,
    NotificationKind,
    PlanStatus,
    ReassessmentSchedule,
)
from education.services import action_params, playbook_for, policy, rules_of
from education.services.plans import reason_dict
from education.uplift import difference, uplift_of

BATCH = 2000
OUTCOMES = (
    "Sessão com o sponsor e a operação; combinamos revisar os indicadores todo mês.",
    "Workshop com 12 pessoas do cliente; dúvidas sobre a meta de TMA esclarecidas.",
    "Visita feita; o cliente pediu para repetir com a equipe de qualidade.",
    "Relatório apresentado; o cliente vai ajustar o script de retenção.",
    "Reunión con compras; se acordó flexibilizar la cláusula de auditoría semanal.",
)
SKIPS = ("O cliente adiou o projeto.", "Sponsor de férias; substituído pela revisão mensal.")


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed_education(
    assessments: list[Assessment],
    dimension_sets: list[list[DimensionResult]],
    *,
    engagements: dict[int, Engagement],
    directors: list[tuple[int, str]],
    today: date,
) -> dict[str, int]:
    """Plans, actions, uplift, reassessment schedules and notifications for ``assessments``
    (saved, in engagement order, oldest first within an engagement)."""
    if not assessments:
        return {}
    playbook = playbook_for(assessments[0].version.questionnaire_id)
    if playbook is None:
        return {}
    rules = rules_of(playbook)
    templates = {t.code: t for t in playbook.templates.all()}
    rules_policy = policy()
    scores = [{d.code: (d.kind, d.score) for d in dims} for dims in dimension_sets]
    plans: list[EducationPlan] = []
    pending: list[tuple[int, EducationAction]] = []  # (plan index, action)
    schedules: list[ReassessmentSchedule] = []
    notices: list[Notification] = []
    for index, assessment in enumerate(assessments):
        engagement = engagements[assessment.engagement_id]
        client = engagement.client
        rng = random.Random(f"maturity-demo-education-{assessment.pk}")
        following = assessments[index + 1] if index + 1 < len(assessments) else None
        if following is not None and following.engagement_id != assessment.engagement_id:
            following = None
        submitted = assessment.submitted_at or _aware(today)
        plans.append(
            EducationPlan(
                assessment=assessment,
                engagement=engagement,
                playbook=playbook,
                status=PlanStatus.BUILT,
                requested_at=submitted,
                sweep_at=submitted,
                built_at=submitted,
                builds=1,
            )
        )
        facts = planning.Facts(
            dimension_scores={code: value for code, (_k, value) in scores[index].items()},
            defensiveness_index=assessment.defensiveness_index,
            quadrant=assessment.quadrant or None,
            phase=engagement.phase,
        )
        names = {
            d["code"]: d.get("name", {}) for d in (assessment.result or {}).get("dimensions", [])
        }
        for found in planning.match(rules, facts):
            template = templates[found.template]
            reasons = [reason_dict(reason, names) for reason in found.reasons]
            action = EducationAction(
                engagement=engagement,
                client=client,
                template=template,
                source_assessment=assessment,
                action_type=template.action_type,
                reasons=reasons,
                owner_id=client.owner_id,
                audience=list(template.audience),
                target_dimensions=list(found.dimensions),
                every_weeks=template.every_weeks,
                recurrence_closed=following is not None and template.every_weeks is not None,
                next_spawned=template.every_weeks is not None,
                due_date=timezone.localdate(submitted) + timedelta(days=template.lead_time_days),
            )
            if following is not None:
                _close_in_the_past(action, rng, following, scores[index], scores[index + 1])
            else:
                _under_way(action, rng, today, rules_policy)
            pending.append((len(plans) - 1, action))
        if following is None:
            due = cadence.due_at(submitted, assessment.maturity_level)
            schedules.append(
                ReassessmentSchedule(
                    engagement=engagement,
                    last_assessment=assessment,
                    due_at=due,
                    # Past-due prompts of the seeded history count as already given.
                    prompted_at=due if due < timezone.now() else None,
                )
            )
    EducationPlan.objects.bulk_create(plans, batch_size=BATCH)
    actions = []
    for plan_index, action in pending:
        action.plan = plans[plan_index]
        actions.append(action)
    EducationAction.objects.bulk_create(actions, batch_size=BATCH)
    for action in actions:
        if action.overdue_at is not None:
            notices.append(_sent(action.owner_id, NotificationKind.OVERDUE, action, "overdue"))
        if action.escalated_at is not None:
            notices += [
                _sent(director_id, NotificationKind.ESCALATION, action, f"escalation.{director_id}")
                for director_id, _email in directors
            ]
    _write_sent(notices)
    ReassessmentSchedule.objects.bulk_create(schedules, batch_size=BATCH, ignore_conflicts=True)
    return {
        "education plans": len(plans),
        "education actions": len(actions),
        "notifications": len(notices),
    }


def _close_in_the_past(
    action: EducationAction,
    rng: random.Random,
    following: Assessment,
    before: dict[str, tuple[str, float | None]],
    after: dict[str, tuple[str, float | None]],
) -> None:
    """An action of an earlier plan: done before the next assessment (or skipped)."""
    assert following.submitted_at is not None
    window = max(1, (timezone.localdate(following.submitted_at) - action.due_date).days)
    closed = _aware(action.due_date + timedelta(days=rng.randrange(-5, max(window - 1, 1))))
    closed = min(closed, following.submitted_at - timedelta(hours=1))
    action.completed_at = closed
    action.completed_by_id = action.owner_id
    action.reminded_at = closed - timedelta(days=2)
    if rng.random() < 0.15:
        action.status = ActionStatus.SKIPPED
        action.skip_reason = rng.choice(SKIPS)
        return
    action.status = ActionStatus.DONE
    action.outcome = rng.choice(OUTCOMES)
    action.dimension_deltas, action.uplift = uplift_of(
        before, after, action.target_dimensions or []
    )
    source = action.source_assessment
    assert source is not None
    action.maturity_delta = difference(following.maturity_score, source.maturity_score)
    action.defensiveness_delta = difference(
        following.defensiveness_index, source.defensiveness_index
    )
    action.uplift_assessment = following


def _under_way(
    action: EducationAction, rng: random.Random, today: date, rules_policy: schedule.Policy
) -> None:
    """An action of the latest plan: rescheduled around today, as a real plan would be."""
    roll = rng.random()
    action.due_date = today + timedelta(days=rng.randrange(-12, 50))
    if roll < 0.3 and action.due_date <= today + timedelta(days=5):
        action.status = ActionStatus.DONE
        action.outcome = rng.choice(OUTCOMES)
        action.completed_at = _aware(min(today, action.due_date))
        action.completed_by_id = action.owner_id
    # What the dispatcher would already have done by today.
    state, _events = schedule.advance(
        schedule.State(
            status=action.status,
            due_date=action.due_date,
            every_weeks=action.every_weeks,
            next_spawned=False,
            recurrence_closed=False,
        ),
        timezone.now(),
        rules_policy,
    )
    action.reminded_at = state.reminded_at
    action.overdue_at = state.overdue_at
    action.escalated_at = state.escalated_at
    action.next_spawned = state.next_spawned
    action.next_check_at = schedule.next_check(state, rules_policy)


def _sent(recipient_id: int, kind: str, action: EducationAction, suffix: str) -> Notification:
    row = Notification(
        recipient_id=recipient_id,
        kind=kind,
        idempotency_key=f"demo.{suffix}.{action.pk}",
        action=action,
        params=action_params(action),
    )
    row.sent_at = action.escalated_at if kind == NotificationKind.ESCALATION else action.overdue_at  # type: ignore[attr-defined]
    return row


def _write_sent(notices: list[Notification]) -> None:
    """The seeded history's notifications, e-mailed when they happened."""
    Notification.objects.bulk_create(notices, batch_size=BATCH, ignore_conflicts=True)
    sent_at = {n.idempotency_key: n.sent_at for n in notices}  # type: ignore[attr-defined]
    written = Notification.objects.filter(idempotency_key__in=list(sent_at)).values_list(
        "idempotency_key", "id"
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                notification_id=pk,
                channel="email",
                state=DeliveryState.SENT,
                attempts=1,
                sent_at=sent_at[key],
            )
            for key, pk in written
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
