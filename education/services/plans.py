"""Plans: requested in the submit's transaction, built by a worker (or the dispatcher),
their failures counted; the uplift they measure and the next reassessment."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from assessments.models import Assessment, DimensionResult
from assessments.signals import Rider
from clients.models import Engagement
from core.sql import one_line, prepared_cursor
from core.tasks import publish_after_commit
from education import cadence, planning
from education.events import action_data_of
from education.models import (
    ActionStatus,
    EducationAction,
    EducationPlan,
    NotificationKind,
    PlanStatus,
    ReassessmentSchedule,
)
from education.services.notifications import notification_for, notifications_write
from education.services.playbooks import playbook_for, rules_of
from education.services.relay import retry_delay
from education.services.scheduling import reschedule
from education.uplift import difference, uplift_of
from voice.models import Round
from voice.selectors import latest_heard
from webhooks.services import events_record

log = logging.getLogger(__name__)


# plan_request's upsert, written once (the ORM took longer to compile it than the database
# to run it): every column, a new plan's defaults taken from the instance; on a
# resubmission only the request's three. PostgreSQL and SQLite both take it. A first
# submit (and an import) carries the same row in its own statement instead: PLAN_RIDER,
# the same columns and conflict, the assessment's id taken from the submit's CTE.
_FIELDS = [field for field in EducationPlan._meta.concrete_fields if not field.primary_key]
_quote = connection.ops.quote_name
_UPSERT = f"""
    INSERT INTO {_quote(EducationPlan._meta.db_table)}
           ({", ".join(_quote(str(field.column)) for field in _FIELDS)})
    {{values}}
    ON CONFLICT (assessment_id) DO UPDATE
       SET status = EXCLUDED.status, requested_at = EXCLUDED.requested_at,
           sweep_at = EXCLUDED.sweep_at
    RETURNING id
"""
_REQUEST_SQL = one_line(_UPSERT.format(values=f"VALUES ({', '.join('%s' for _ in _FIELDS)})"))


def _requested(assessment: Assessment, *, attached: bool = True) -> EducationPlan:
    """The plan ``assessment`` asks for now, pending (not saved); ``attached``: known to
    the assessment as its ``education_plan`` (not so a row its statement will write)."""
    now = timezone.now()
    return EducationPlan(
        **({"assessment": assessment} if attached else {"assessment_id": assessment.pk}),
        engagement_id=assessment.engagement_id,
        status=PlanStatus.PENDING,
        requested_at=now,
        sweep_at=now + timedelta(seconds=settings.EDUCATION_PLAN_SWEEP_SECONDS),
    )


def _column_values(plan: EducationPlan, *, but: str = "") -> list[Any]:
    return [
        field.get_db_prep_save(getattr(plan, field.attname), connection)
        for field in _FIELDS
        if field.attname != but
    ]


def plan_request(*, assessment: Assessment) -> EducationPlan:
    """Record, in the submit's transaction, that the assessment's plan must be built; a
    worker builds it after commit. A resubmission (after a return) asks for it again.

    The pending plan is the outbox row: if its message cannot be published it is built by
    the dispatcher, at its next tick when the publish failed (``plan_orphaned``), after
    ``EDUCATION_PLAN_SWEEP_SECONDS`` when the message was simply lost."""
    # One upsert (no read, no savepoint): a new plan, or the existing one pending again.
    plan = _requested(assessment)
    with prepared_cursor() as cursor:
        cursor.execute(_REQUEST_SQL, _column_values(plan))
        (plan.pk,) = cursor.fetchone()
    plan._state.adding, plan._state.db = False, connection.alias  # as saved by the ORM
    plan_requested(plan_id=plan.pk)
    return plan


def plan_requested(*, plan_id: int) -> None:
    """The plan ``plan_id`` was asked for in this transaction (plan_request, or the
    submit's statement carrying PLAN_RIDER): a worker is told once it commits."""
    # Here, not at the top: tasks imports the services it runs.
    from education.tasks import enqueue_plan_build

    publish_after_commit(lambda: enqueue_plan_build(plan_id))


def _riding_sql() -> str:
    """_UPSERT as a rider's CTE: its values selected from the submit's CTE, each cast to
    its column's type (a bare parameter in a SELECT is text to PostgreSQL)."""
    values = ", ".join(
        "{assessment}.id"
        if field.attname == "assessment_id"
        else f"%s::{field.db_type(connection)}"
        for field in _FIELDS
    )
    return one_line(_UPSERT.format(values=f"SELECT {values} FROM {{assessment}}"))


# The plan a first submit (or an import) asks for, written by its own statement on
# PostgreSQL (education.apps registers it; plan_on_submit is then handed its id).
PLAN_RIDER = Rider(
    name="education_plan",
    sql=_riding_sql(),
    params=lambda assessment: _column_values(
        _requested(assessment, attached=False), but="assessment_id"
    ),
)


def plan_orphaned(*, plan_id: int) -> None:
    """The plan's message could not be published: the dispatcher builds it at its next
    tick, so plans come back within one tick of the broker's return."""
    EducationPlan.objects.filter(pk=plan_id, status=PlanStatus.PENDING).update(
        sweep_at=timezone.now()
    )


def facts(assessment: Assessment, engagement: Engagement) -> planning.Facts:
    scores = dict(
        DimensionResult.objects.filter(assessment=assessment).values_list("code", "score")
    )
    return planning.Facts(
        dimension_scores=scores,
        defensiveness_index=assessment.defensiveness_index,
        quadrant=assessment.quadrant or None,
        phase=engagement.phase,
        **gaps_of(engagement, assessment.version.questionnaire_id),
    )


def gaps_of(engagement: Engagement, questionnaire_id: int) -> dict[str, Any]:
    """The facts' perception gap of each dimension (levels) and which are maturity
    dimensions, from the engagement's latest round on the questionnaire with respondents
    and our view; empty when none was heard."""
    found = latest_heard(
        Round.objects.filter(engagement=engagement, version__questionnaire_id=questionnaire_id)
    ).get(engagement.pk)
    if found is None:
        return {}
    rows = found[1].rows
    return {
        "gaps": {row.code: row.levels for row in rows},
        "maturity_dimensions": frozenset(row.code for row in rows if row.kind == "maturity"),
    }


@transaction.atomic
def plan_build(*, plan_id: int) -> EducationPlan | None:
    """Build a pending plan: its actions, the uplift of the previous plan, the next
    reassessment date and a notice to the owner. None when there is nothing to do (already
    built, or another worker holds it)."""
    plan = (
        EducationPlan.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("assessment__version", "engagement__client__owner")
        .filter(pk=plan_id, status=PlanStatus.PENDING)
        .first()
    )
    if plan is None:
        return None
    assessment, engagement = plan.assessment, plan.engagement
    now = timezone.now()
    playbook = playbook_for(assessment.version.questionnaire_id)
    created: list[EducationAction] = []
    if playbook is not None and assessment.submitted_at is not None:
        matches = planning.match(rules_of(playbook), facts(assessment, engagement))
        created = _add_actions(plan, playbook, matches, now)
    # Recurring series of earlier plans run "until the next assessment": this one.
    EducationAction.objects.filter(
        engagement=engagement, every_weeks__isnull=False, recurrence_closed=False
    ).exclude(plan=plan).update(recurrence_closed=True)
    uplift_measure(assessment=assessment)
    _schedule_reassessment(assessment)
    if created:
        _tell_plan_ready(plan, key=f"plan.{plan.pk}.{plan.builds + 1}", actions=len(created))
    plan.status = PlanStatus.BUILT
    plan.built_at = now
    plan.builds += 1
    plan.playbook = playbook
    plan.save(update_fields=["status", "built_at", "builds", "playbook"])
    return plan


def _add_actions(
    plan: EducationPlan, playbook: Any, matches: Iterable[planning.Match], now: Any
) -> list[EducationAction]:
    """The plan's actions for ``matches`` whose template it does not have yet, each due
    its template's lead time after the assessment (not before today), with the
    ``education_action.created`` events. Returns those created."""
    assessment, engagement = plan.assessment, plan.engagement
    client = engagement.client
    assert assessment.submitted_at is not None
    templates = {t.code: t for t in playbook.templates.all()}
    names = {d["code"]: d.get("name", {}) for d in (assessment.result or {}).get("dimensions", [])}
    submitted_on = timezone.localdate(assessment.submitted_at)
    created = []
    for found in matches:
        template = templates[found.template]
        action = EducationAction(
            engagement=engagement,
            client=client,
            plan=plan,
            template=template,
            source_assessment=assessment,
            occurrence=1,
            action_type=template.action_type,
            reasons=[reason_dict(reason, names) for reason in found.reasons],
            owner_id=client.owner_id,
            audience=list(template.audience),
            target_dimensions=list(found.dimensions),
            due_date=max(
                submitted_on + timedelta(days=template.lead_time_days),
                timezone.localdate(now),
            ),
            every_weeks=template.every_weeks if template.recurrence == "weekly" else None,
        )
        reschedule(action)
        created.append(action)
    existing = set(plan.actions.values_list("template_id", flat=True))
    created = [a for a in created if a.template_id not in existing]
    EducationAction.objects.bulk_create(created, ignore_conflicts=True)
    if created:  # read back for their ids (ignore_conflicts sets none)
        rows = list(
            plan.actions.filter(template_id__in=[a.template_id for a in created]).select_related(
                "template"
            )
        )
        for row in rows:
            row.client = client  # the plan's, already read
        events_record([("education_action.created", action_data_of(row)) for row in rows])
    return created


def plan_hear_gap(*, engagement: Engagement, round_id: int) -> list[EducationAction]:
    """A round of the client's view closed: the perception-gap rules of the playbook are
    applied to the engagement's newest plan, once built, which gets the actions they call
    for that it does not have yet, and its owner hears of them. (A plan built after the
    round already read its gap, and one still being built will.) Returns the actions
    added."""
    plan = (
        EducationPlan.objects.filter(engagement=engagement)
        .select_related("assessment__version", "engagement__client__owner", "playbook")
        .order_by("-assessment__submitted_at", "-id")
        .first()
    )
    if (
        plan is None
        or plan.status != PlanStatus.BUILT
        or plan.playbook is None
        or plan.assessment.submitted_at is None
    ):
        return []
    rules = [r for r in rules_of(plan.playbook) if r.kind == planning.PERCEPTION_GAP]
    if not rules:
        return []
    matches = planning.match(rules, facts(plan.assessment, plan.engagement))
    created = _add_actions(plan, plan.playbook, matches, timezone.now())
    if created:
        key = f"plan.{plan.pk}.gap.{round_id}"
        _tell_plan_ready(plan, key=key, actions=len(created))
    return created


def _tell_plan_ready(plan: EducationPlan, *, key: str, actions: int) -> None:
    """The client's owner hears that the plan has ``actions`` new actions."""
    client = plan.engagement.client
    notifications_write(
        [
            notification_for(
                recipient=client.owner,
                kind=NotificationKind.PLAN_READY,
                key=key,
                params={
                    "client": client.name,
                    "client_id": client.pk,
                    "engagement": plan.engagement.get_process_type_display(),
                    "actions": actions,
                },
            )
        ]
    )


def reason_dict(reason: planning.Reason, names: dict[str, Any]) -> dict[str, Any]:
    """A reason as stored: with the dimension's name in three languages, so it can be
    shown in the reader's language without reading the questionnaire again."""
    data = reason.as_dict()
    if reason.kind in (planning.WEAK_DIMENSION, planning.PERCEPTION_GAP):
        data["name"] = names.get(reason.subject, {})
    return data


def _schedule_reassessment(assessment: Assessment) -> None:
    submitted = assessment.submitted_at or timezone.now()
    due = cadence.due_at(submitted, assessment.maturity_level)
    current = ReassessmentSchedule.objects.filter(engagement_id=assessment.engagement_id).first()
    if (
        current is not None
        and current.last_assessment.submitted_at
        and (current.last_assessment.submitted_at > submitted)
    ):
        return  # an older plan built late must not move a newer assessment's schedule
    ReassessmentSchedule.objects.update_or_create(
        engagement_id=assessment.engagement_id,
        defaults={"last_assessment": assessment, "due_at": due, "prompted_at": None},
    )


def uplift_measure(*, assessment: Assessment) -> int:
    """Measure the uplift of every done action of the engagement that this assessment is
    the first to follow: per targeted dimension, how much it improved (a maturity score
    rising, a defensiveness score falling), and the mean of those as the action's uplift."""
    if assessment.submitted_at is None:
        return 0
    actions = list(
        EducationAction.objects.filter(
            engagement_id=assessment.engagement_id,
            status=ActionStatus.DONE,
            uplift_assessment__isnull=True,
            completed_at__lte=assessment.submitted_at,
            source_assessment__submitted_at__lt=assessment.submitted_at,
        ).select_related("source_assessment")
    )
    if not actions:
        return 0
    ids = {assessment.pk, *(a.source_assessment_id for a in actions if a.source_assessment_id)}
    scores: dict[int, dict[str, tuple[str, float | None]]] = {}
    for assessment_id, code, kind, value in DimensionResult.objects.filter(
        assessment_id__in=ids
    ).values_list("assessment_id", "code", "kind", "score"):
        scores.setdefault(assessment_id, {})[code] = (kind, value)
    after = scores.get(assessment.pk, {})
    for action in actions:
        source = action.source_assessment
        assert source is not None
        before = scores.get(source.pk, {})
        action.dimension_deltas, action.uplift = uplift_of(
            before, after, action.target_dimensions or []
        )
        action.maturity_delta = difference(assessment.maturity_score, source.maturity_score)
        action.defensiveness_delta = difference(
            assessment.defensiveness_index, source.defensiveness_index
        )
        action.uplift_assessment = assessment
    EducationAction.objects.bulk_update(
        actions,
        [
            "dimension_deltas",
            "uplift",
            "maturity_delta",
            "defensiveness_delta",
            "uplift_assessment",
        ],
    )
    return len(actions)


def plan_build_failed(*, plan_id: int, error: BaseException) -> None:
    """Record a build that raised (its transaction rolled back): the plan stays pending,
    its failures are counted (a metric) and the dispatcher retries it with backoff."""
    plans = EducationPlan.objects.filter(pk=plan_id, status=PlanStatus.PENDING)
    failures = plans.values_list("build_failures", flat=True).first()
    if failures is None:
        return
    plans.update(
        build_failures=F("build_failures") + 1,
        last_error=f"{type(error).__name__}: {error}"[:500],
        sweep_at=timezone.now() + retry_delay(failures + 1),
    )
