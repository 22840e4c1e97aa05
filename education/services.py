"""Every write of the education app: plans, actions, the dispatcher and the outbox relay.

Views, viewsets, admin and tasks parse input and call these; nothing else writes education
rows. Timed work is idempotent by construction: rows are claimed with
``SELECT … FOR UPDATE SKIP LOCKED`` (so two workers never hold the same row), every event
sets a flag in the same transaction as the notification it writes, and every notification
has a unique idempotency key.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from assessments.models import Assessment, AssessmentStatus, DimensionResult
from clients.models import Engagement
from education import cadence, planning, schedule
from education.models import (
    ActionStatus,
    ActionTemplate,
    ActionType,
    EducationAction,
    EducationPlan,
    EmailState,
    Notification,
    NotificationKind,
    PlanStatus,
    Playbook,
    PlaybookRule,
    ReassessmentSchedule,
)
from education.uplift import difference, uplift_of

log = logging.getLogger(__name__)

# How long after its last assessment an engagement is due for another, by maturity level:
# a novice changes fast and needs looking at often; a strategic partner once a year.
MAX_DUE_DATE_YEARS = 5


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


def _reschedule(action: EducationAction) -> None:
    action.next_check_at = schedule.next_check(state_of(action), policy())


# --- Notifications (the outbox) -----------------------------------------------------------


def notification_for(
    *,
    recipient: User | int,
    kind: str,
    key: str,
    action: EducationAction | None = None,
    params: dict[str, Any] | None = None,
    email: str | None = None,
    now: datetime | None = None,
) -> Notification:
    """An unsaved notification; write it with :func:`notifications_write`."""
    recipient_id = recipient if isinstance(recipient, int) else recipient.pk
    if email is None and isinstance(recipient, User):
        email = recipient.email
    has_email = bool(email)
    return Notification(
        recipient_id=recipient_id,
        kind=kind,
        idempotency_key=key,
        action=action,
        params=params or {},
        email_state=EmailState.PENDING if has_email else EmailState.SKIPPED,
        next_attempt_at=(now or timezone.now()) if has_email else None,
    )


def notifications_write(rows: Sequence[Notification], *, relay_soon: bool = True) -> None:
    """Write notifications in the caller's transaction; a key already written is skipped.

    ``relay_soon`` asks a worker to e-mail them once the transaction commits; without it
    (or if the broker is down) the dispatcher's next pass relays them anyway.
    """
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if relay_soon:
        from education.tasks import enqueue_relay

        transaction.on_commit(enqueue_relay, robust=True)


def notice_params(
    *,
    pk: int,
    title: str,
    template_title: Any,
    action_type: str,
    client_name: str,
    client_id: int,
    due_date: date,
) -> dict[str, Any]:
    """What a notification about an action shows, frozen at the time it was written: its
    own title, else the template's (three languages, shown in the reader's), else its type."""
    return {
        "action": pk,
        "title": title or template_title or str(dict(ActionType.choices).get(action_type, "")),
        "client": client_name,
        "client_id": client_id,
        "due_date": due_date.isoformat(),
        "action_type": action_type,
    }


def _action_params(action: EducationAction) -> dict[str, Any]:
    return notice_params(
        pk=action.pk,
        title=action.title,
        template_title=action.template.title if action.template_id and action.template else {},
        action_type=action.action_type,
        client_name=action.client.name,
        client_id=action.client_id,
        due_date=action.due_date,
    )


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``ids`` is None)."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def _deadline(budget_seconds: float | None) -> float:
    """When a pass stops starting batches: a task never runs into its time limit, and
    what is left is still due for the next tick."""
    seconds = settings.EDUCATION_PASS_SECONDS if budget_seconds is None else budget_seconds
    return time.monotonic() + seconds


def _message_id(key: str) -> str:
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN
    return f"<{key}@{domain}>"


def _backoff(attempts: int) -> timedelta:
    base = settings.NOTIFICATION_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


@dataclass
class RelayReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    batches: int = 0  # rows claimed: one transaction each


def notifications_relay(
    *,
    now: datetime | None = None,
    max_messages: int | None = None,
    budget_seconds: float | None = None,
) -> RelayReport:
    """E-mail pending notifications, one row per transaction.

    Each row is locked (``SKIP LOCKED``: another worker takes the next one), sent and
    marked sent before the next is claimed, so a worker killed at any moment can have sent
    at most the one message in flight without recording it. That message is sent again
    later with the same Message-ID, so a receiver recognises the copy. A failed send is
    retried with exponential backoff until ``NOTIFICATION_MAX_ATTEMPTS``, then given up.
    The mail connection is opened once per pass and reused.
    """
    from education.messages import render_email

    report = RelayReport()
    deadline = _deadline(budget_seconds)
    mail = None
    try:
        while max_messages is None or report.batches < max_messages:
            if time.monotonic() >= deadline:
                break
            moment = now or timezone.now()
            with transaction.atomic():
                row = (
                    Notification.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(email_state=EmailState.PENDING, next_attempt_at__lte=moment)
                    .select_related("recipient")
                    .order_by("next_attempt_at", "id")
                    .first()
                )
                if row is None:
                    break
                report.batches += 1
                row.attempts += 1
                try:
                    if mail is None:
                        # Opened here, so the backend keeps it open across messages.
                        mail = get_connection(fail_silently=False)
                        mail.open()
                    subject, body = render_email(row)
                    EmailMessage(
                        subject=subject,
                        body=body,
                        to=[row.recipient.email],
                        headers={"Message-ID": _message_id(row.idempotency_key)},
                        connection=mail,
                    ).send()
                except SoftTimeLimitExceeded:
                    raise  # the task is out of time: roll back, this is not a failed send
                except Exception as error:  # any failure of the edge: retry later
                    _discard(mail)
                    mail = None
                    row.last_error = f"{type(error).__name__}: {error}"[:500]
                    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                        row.email_state = EmailState.FAILED
                        row.next_attempt_at = None
                        report.gave_up += 1
                    else:
                        row.next_attempt_at = moment + _backoff(row.attempts)
                        report.failed += 1
                else:
                    row.email_state = EmailState.SENT
                    row.sent_at = timezone.now()
                    row.next_attempt_at = None
                    row.last_error = ""
                    report.sent += 1
                row.save(
                    update_fields=[
                        "attempts",
                        "email_state",
                        "sent_at",
                        "next_attempt_at",
                        "last_error",
                    ]
                )
    finally:
        _discard(mail)
    return report


def _discard(connection: Any) -> None:
    """Close a mail connection, whatever state it is in (a broken one is simply dropped)."""
    if connection is not None:
        try:
            connection.close()
        except Exception:
            log.warning("closing the mail connection failed", exc_info=True)


# --- Playbooks -----------------------------------------------------------------------------


def playbook_for(questionnaire_id: int) -> Playbook | None:
    return Playbook.objects.filter(questionnaire_id=questionnaire_id, is_active=True).first()


def rules_of(playbook: Playbook) -> list[planning.Rule]:
    rules = PlaybookRule.objects.filter(playbook=playbook).select_related("template")
    return [
        planning.Rule(
            template=rule.template.code,
            kind=rule.kind,
            dimension=rule.dimension_code,
            threshold=rule.threshold,
            min_defensiveness=rule.min_defensiveness,
            max_defensiveness=rule.max_defensiveness,
            quadrant=rule.quadrant,
            phase=rule.phase,
            phases=tuple(rule.phases or ()),
            template_targets=tuple(rule.template.target_dimensions or ()),
        )
        for rule in rules.order_by("position", "id")
    ]


def playbook_import(*, document: dict[str, Any]) -> Playbook:
    """Create or replace a playbook from its JSON document (see data/default_playbook.json)."""
    from assessments.models import Questionnaire
    from education.interchange import check_playbook

    problems = check_playbook(document)
    if problems:
        raise ValidationError(problems)
    questionnaire = Questionnaire.objects.filter(code=document["questionnaire"]).first()
    if questionnaire is None:
        raise ValidationError(
            _("No questionnaire has the code “%(code)s”.") % {"code": document["questionnaire"]}
        )
    with transaction.atomic():
        playbook, _created = Playbook.objects.update_or_create(
            code=document["code"],
            defaults={
                "name": document["name"],
                "description": document.get("description", {}),
                "questionnaire": questionnaire,
            },
        )
        templates: dict[str, ActionTemplate] = {}
        for position, item in enumerate(document["templates"]):
            template, _created = ActionTemplate.objects.update_or_create(
                playbook=playbook,
                code=item["code"],
                defaults={
                    "action_type": item["action_type"],
                    "title": item["title"],
                    "description": item.get("description", {}),
                    "lead_time_days": item.get("lead_time_days", 14),
                    "recurrence": item.get("recurrence", "once"),
                    "every_weeks": item.get("every_weeks"),
                    "audience": item.get("audience", []),
                    "target_dimensions": item.get("target_dimensions", []),
                    "position": position,
                },
            )
            templates[template.code] = template
        playbook.rules.all().delete()
        PlaybookRule.objects.bulk_create(
            PlaybookRule(
                playbook=playbook,
                template=templates[item["template"]],
                kind=item["kind"],
                dimension_code=item.get("dimension_code", ""),
                threshold=item.get("threshold"),
                min_defensiveness=item.get("min_defensiveness"),
                max_defensiveness=item.get("max_defensiveness"),
                quadrant=item.get("quadrant", ""),
                phase=item.get("phase", ""),
                phases=item.get("phases", []),
                position=position,
            )
            for position, item in enumerate(document["rules"])
        )
    return playbook


def _require_director(by: User) -> None:
    from accounts.access import DIRECTORS, user_has_role

    if not user_has_role(by, DIRECTORS):
        raise PermissionDenied(_("Only directors change playbooks."))


def template_update(*, template: ActionTemplate, by: User, **fields: Any) -> ActionTemplate:
    """A director changes a template's texts, timing or audience."""
    _require_director(by)
    for name, value in fields.items():
        setattr(template, name, value)
    if template.recurrence == "once":
        template.every_weeks = None
    elif not template.every_weeks:
        raise ValidationError({"every_weeks": _("Say every how many weeks it repeats.")})
    template.full_clean()
    template.save()
    return template


def rule_save(*, rule: PlaybookRule, by: User) -> PlaybookRule:
    """A director adds or changes a rule; each kind must have the fields it reads."""
    _require_director(by)
    errors: dict[str, str] = {}
    if rule.template_id and rule.template.playbook_id != rule.playbook_id:
        errors["template"] = _("The template belongs to another playbook.")
    if rule.kind == planning.WEAK_DIMENSION:
        if not rule.dimension_code:
            errors["dimension_code"] = _("Name the dimension.")
        if rule.threshold is None:
            errors["threshold"] = _("Give the score below which the dimension is weak.")
    elif rule.kind == planning.DEFENSIVENESS_BAND:
        low, high = rule.min_defensiveness, rule.max_defensiveness
        if low is None and high is None:
            errors["min_defensiveness"] = _("Give at least one end of the band.")
        elif low is not None and high is not None and low >= high:
            errors["max_defensiveness"] = _("The band's upper end must be above its lower end.")
    elif rule.kind == planning.QUADRANT and not rule.quadrant:
        errors["quadrant"] = _("Choose the quadrant.")
    elif rule.kind == planning.PHASE and not rule.phase:
        errors["phase"] = _("Choose the phase.")
    if errors:
        raise ValidationError(errors)
    rule.full_clean()
    rule.save()
    return rule


# --- Plans -----------------------------------------------------------------------------------


def plan_request(*, assessment: Assessment) -> EducationPlan:
    """Record, in the submit's transaction, that the assessment's plan must be built; a
    worker builds it after commit. A resubmission (after a return) asks for it again.

    The pending plan is the outbox row: if its message cannot be published it is built by
    the dispatcher, at its next tick when the publish failed (``plan_orphaned``), after
    ``EDUCATION_PLAN_SWEEP_SECONDS`` when the message was simply lost."""
    now = timezone.now()
    # One upsert (no read, no savepoint): a new plan, or the existing one pending again.
    plan = EducationPlan(
        assessment=assessment,
        engagement_id=assessment.engagement_id,
        status=PlanStatus.PENDING,
        requested_at=now,
        sweep_at=now + timedelta(seconds=settings.EDUCATION_PLAN_SWEEP_SECONDS),
    )
    EducationPlan.objects.bulk_create(
        [plan],
        update_conflicts=True,
        unique_fields=["assessment"],
        update_fields=["status", "requested_at", "sweep_at"],
    )
    if plan.pk is None:  # a database that does not return ids of upserted rows
        plan = EducationPlan.objects.get(assessment=assessment)
    from education.tasks import enqueue_plan_build

    transaction.on_commit(lambda: enqueue_plan_build(plan.pk), robust=True)
    return plan


def plan_orphaned(*, plan_id: int) -> None:
    """The plan's message could not be published: the dispatcher builds it at its next
    tick, so plans come back within one tick of the broker's return."""
    EducationPlan.objects.filter(pk=plan_id, status=PlanStatus.PENDING).update(
        sweep_at=timezone.now()
    )


def _facts(assessment: Assessment, engagement: Engagement) -> planning.Facts:
    scores = dict(
        DimensionResult.objects.filter(assessment=assessment).values_list("code", "score")
    )
    return planning.Facts(
        dimension_scores=scores,
        defensiveness_index=assessment.defensiveness_index,
        quadrant=assessment.quadrant or None,
        phase=engagement.phase,
    )


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
    client = engagement.client
    now = timezone.now()
    playbook = playbook_for(assessment.version.questionnaire_id)
    created: list[EducationAction] = []
    if playbook is not None and assessment.submitted_at is not None:
        matches = planning.match(rules_of(playbook), _facts(assessment, engagement))
        templates = {t.code: t for t in playbook.templates.all()}
        names = {
            d["code"]: d.get("name", {}) for d in (assessment.result or {}).get("dimensions", [])
        }
        submitted_on = timezone.localdate(assessment.submitted_at)
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
                reasons=[_reason_dict(reason, names) for reason in found.reasons],
                owner_id=client.owner_id,
                audience=list(template.audience),
                target_dimensions=list(found.dimensions),
                due_date=max(
                    submitted_on + timedelta(days=template.lead_time_days),
                    timezone.localdate(now),
                ),
                every_weeks=template.every_weeks if template.recurrence == "weekly" else None,
            )
            _reschedule(action)
            created.append(action)
        existing = set(plan.actions.values_list("template_id", flat=True))
        created = [a for a in created if a.template_id not in existing]
        EducationAction.objects.bulk_create(created, ignore_conflicts=True)
    # Recurring series of earlier plans run "until the next assessment": this one.
    EducationAction.objects.filter(
        engagement=engagement, every_weeks__isnull=False, recurrence_closed=False
    ).exclude(plan=plan).update(recurrence_closed=True)
    uplift_measure(assessment=assessment)
    _schedule_reassessment(assessment)
    if created:
        notifications_write(
            [
                notification_for(
                    recipient=client.owner,
                    kind=NotificationKind.PLAN_READY,
                    key=f"plan.{plan.pk}.{plan.builds + 1}",
                    params={
                        "client": client.name,
                        "client_id": client.pk,
                        "engagement": engagement.get_process_type_display(),
                        "actions": len(created),
                    },
                )
            ]
        )
    plan.status = PlanStatus.BUILT
    plan.built_at = now
    plan.builds += 1
    plan.playbook = playbook
    plan.save(update_fields=["status", "built_at", "builds", "playbook"])
    return plan


def _reason_dict(reason: planning.Reason, names: dict[str, Any]) -> dict[str, Any]:
    """A reason as stored: with the dimension's name in three languages, so it can be
    shown in the reader's language without reading the questionnaire again."""
    data = reason.as_dict()
    if reason.kind == planning.WEAK_DIMENSION:
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


# --- Actions ----------------------------------------------------------------------------------


def action_may_change(*, action: EducationAction, user: User) -> bool:
    """Whoever may see the client may work on its plan: the whole team shares it."""
    from clients.selectors import clients_visible_to

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


def _assigned(action: EducationAction, by: User) -> Notification | None:
    if action.owner_id == by.pk:
        return None
    return notification_for(
        recipient=action.owner,
        kind=NotificationKind.ASSIGNED,
        key=f"assigned.{action.pk}.{uuid.uuid4().hex}",
        action=action,
        params={**_action_params(action), "by": str(by)},
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
    _reschedule(action)
    action.save()
    notice = _assigned(action, by)
    if notice:
        notifications_write([notice])
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
    _reschedule(action)
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
    _reschedule(action)
    action.save()
    return action


@transaction.atomic
def action_complete(*, action: EducationAction, by: User, outcome: str) -> EducationAction:
    """Done, with what came of it (the outcome is what the next review reads)."""
    action = _lock_open(action, by)
    outcome = _clean_text(outcome, "outcome", 5000)
    if not outcome:
        raise ValidationError({"outcome": _("Say what came of it.")})
    return _close(action, by=by, status=ActionStatus.DONE, outcome=outcome)


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
    _reschedule(action)
    action.save()
    return action


# --- The dispatcher ---------------------------------------------------------------------------


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
)
# On PostgreSQL a batch's new state and its notifications are written with one statement
# each, from arrays (``unnest``), instead of the ORM's bulk_update — a CASE per row and
# column, which took 1.2 s of a 500-row batch. Other databases take the ORM path; tests
# run both and compare what they store.
SET_BASED_WRITES = True


@dataclass
class _Batch:
    """What one dispatcher batch writes."""

    states: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[tuple[Any, ...]] = field(default_factory=list)
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
    deadline = _deadline(budget_seconds)
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
            _write_notices(batch.notices, moment)
            if batch.spawn_ids:
                spawned = [
                    nxt
                    for action in EducationAction.objects.filter(pk__in=batch.spawn_ids)
                    if (nxt := _next_occurrence(action)) is not None
                ]
                EducationAction.objects.bulk_create(spawned, ignore_conflicts=True)
                report.spawned += len(spawned)
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
     action_type) = row  # fmt: skip
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
        batch.notices.append((recipient, kind, key, pk, params | extra, bool(email)))

    for event in events:
        if event is schedule.Event.REMIND:
            report.reminders += 1
            notice(owner_id, owner_email, NotificationKind.REMINDER, f"reminder.{pk}.{due}", {})
        elif event is schedule.Event.OVERDUE:
            report.overdue += 1
            notice(owner_id, owner_email, NotificationKind.OVERDUE, f"overdue.{pk}.{due}", {})
        elif event is schedule.Event.ESCALATE:
            report.escalations += 1
            for director_id, email in directors:
                notice(
                    director_id,
                    email,
                    NotificationKind.ESCALATION,
                    f"escalation.{pk}.{due}.{director_id}",
                    {"owner": owner_id},
                )
        elif event is schedule.Event.SPAWN:
            batch.spawn_ids.append(pk)


def _write_notices(notices: list[tuple[Any, ...]], moment: datetime) -> None:
    """Insert the batch's notifications; a key already written is skipped."""
    if not notices:
        return
    if connection.vendor == "postgresql" and SET_BASED_WRITES:
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for recipient, kind, key, action_id, params, has_email in notices:
            for column, value in zip(
                columns,
                (
                    recipient,
                    kind,
                    key,
                    action_id,
                    json.dumps(params),
                    EmailState.PENDING if has_email else EmailState.SKIPPED,
                    moment if has_email else None,
                ),
                strict=True,
            ):
                column.append(value)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO education_notification
                       (recipient_id, kind, idempotency_key, action_id, params, created_at,
                        email_state, attempts, next_attempt_at, last_error)
                SELECT v.recipient, v.kind, v.key, v.action, v.params::jsonb, %s,
                       v.state, 0, v.next_attempt, ''
                  FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[],
                              %s::text[], %s::timestamptz[])
                       AS v (recipient, kind, key, action, params, state, next_attempt)
                    ON CONFLICT (idempotency_key) DO NOTHING
                """,
                [moment, *columns],
            )
        return
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=recipient,
                kind=kind,
                idempotency_key=key,
                action_id=action_id,
                params=params,
                email_state=EmailState.PENDING if has_email else EmailState.SKIPPED,
                next_attempt_at=moment if has_email else None,
            )
            for recipient, kind, key, action_id, params, has_email in notices
        ],
        ignore_conflicts=True,
    )


def _write_states(states: list[tuple[Any, ...]], moment: datetime) -> None:
    """Store each claimed action's flags and its next check."""
    if connection.vendor == "postgresql" and SET_BASED_WRITES:
        columns: list[list[Any]] = [list(column) for column in zip(*states, strict=True)]
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


def _next_occurrence(action: EducationAction) -> EducationAction | None:
    due = schedule.next_due_date(state_of(action))
    if due is None:
        return None
    nxt = EducationAction(
        engagement_id=action.engagement_id,
        client_id=action.client_id,
        plan_id=action.plan_id,
        template_id=action.template_id,
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
    _reschedule(nxt)
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
            built += plan_build(plan_id=pk) is not None
        except SoftTimeLimitExceeded:
            raise  # out of time: not the plan's fault; the next tick goes on
        except Exception as error:
            log.exception("building plan %s failed", pk)
            plan_build_failed(plan_id=pk, error=error)
    return built


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
        sweep_at=timezone.now() + _backoff(failures + 1),
    )


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
                now=moment,
            )
        )
        row.prompted_at = moment
    notifications_write(notices, relay_soon=False)
    ReassessmentSchedule.objects.bulk_update(rows, ["prompted_at"])
    return len(notices)


def dispatch(*, now: datetime | None = None, batch_size: int = 1000) -> DispatchReport:
    """The dispatcher's whole pass: lost plans, due actions, reassessment prompts; then
    the outbox is relayed by the caller (see tasks.dispatch)."""
    report = dispatch_actions(now=now, batch_size=batch_size)
    report.plans = sweep_pending_plans(now=now)
    report.reassessments = prompt_reassessments(now=now)
    return report


# --- Weekly digest ----------------------------------------------------------------------------


def weekly_digest(*, now: datetime | None = None) -> int:
    """One digest per active director per ISO week: overdue, escalated, done and coming."""
    from education.selectors import portfolio_effort

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
                    now=moment,
                )
                for director in directors
            ]
        )
    return len(directors)


def rule_delete(*, rule: PlaybookRule, by: User) -> None:
    _require_director(by)
    rule.delete()


def notifications_retry(*, ids: Iterable[int]) -> int:
    """Queue failed e-mails again (an operator's action once the mail server is fixed)."""
    return Notification.objects.filter(pk__in=list(ids), email_state=EmailState.FAILED).update(
        email_state=EmailState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )


def playbook_export(*, playbook: Playbook) -> dict[str, Any]:
    """A playbook as the JSON document playbook_import reads (round trip: same playbook)."""
    return {
        "format": "maturity-playbook",
        "format_version": 1,
        "code": playbook.code,
        "questionnaire": playbook.questionnaire.code,
        "name": playbook.name,
        "description": playbook.description,
        "templates": [
            {
                "code": t.code,
                "action_type": t.action_type,
                "title": t.title,
                "description": t.description,
                "lead_time_days": t.lead_time_days,
                "recurrence": t.recurrence,
                "every_weeks": t.every_weeks,
                "audience": t.audience,
                "target_dimensions": t.target_dimensions,
            }
            for t in playbook.templates.order_by("position", "id")
        ],
        "rules": [
            {
                key: value
                for key, value in {
                    "template": r.template.code,
                    "kind": r.kind,
                    "dimension_code": r.dimension_code,
                    "threshold": r.threshold,
                    "min_defensiveness": r.min_defensiveness,
                    "max_defensiveness": r.max_defensiveness,
                    "quadrant": r.quadrant,
                    "phase": r.phase,
                    "phases": r.phases,
                }.items()
                if value not in ("", None, [])
            }
            for r in playbook.rules.select_related("template").order_by("position", "id")
        ],
    }
