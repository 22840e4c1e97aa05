"""Plans, actions, the dispatcher and the outbox, through the services (in-process)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Phase
from education import schedule, services
from education.models import (
    ActionStatus,
    DeliveryState,
    EducationAction,
    EducationPlan,
    Notification,
    NotificationKind,
    PlanStatus,
    ReassessmentSchedule,
)
from education.services import dispatcher, plans
from tests.factories import (
    DirectorFactory,
    EducationActionFactory,
    EngagementFactory,
    email_of,
    submitted_assessment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client, phase=Phase.OPERATION)


def build(assessment):
    plan = EducationPlan.objects.get(assessment=assessment)
    return services.plan_build(plan_id=plan.pk)


def test_submitting_records_a_pending_plan_in_the_same_transaction(engagement):
    assessment = submitted_assessment(engagement, level=2)
    plan = EducationPlan.objects.get(assessment=assessment)
    assert plan.status == PlanStatus.PENDING
    assert plan.engagement == engagement


def test_a_weak_result_gets_actions_for_its_weak_dimensions(engagement, manager_a):
    assessment = submitted_assessment(engagement, level=1)
    plan = build(assessment)
    actions = list(plan.actions.select_related("template"))
    codes = {a.template.code for a in actions}
    # Level 1 everywhere: every maturity dimension is weak, so each has its action.
    assert {"process-walkthrough", "governance-workshop", "indicators-guide"} <= codes
    assert all(a.owner == manager_a for a in actions)
    assert all(a.source_assessment == assessment for a in actions)
    walkthrough = next(a for a in actions if a.template.code == "process-walkthrough")
    assert walkthrough.reasons[0]["kind"] == "weak_dimension"
    assert walkthrough.reasons[0]["subject"] == "process-knowledge"
    assert walkthrough.due_date == timezone.localdate(assessment.submitted_at) + timedelta(days=21)
    assert walkthrough.next_check_at is not None
    assert plan.status == PlanStatus.BUILT


def test_a_strong_result_in_operation_gets_no_weak_dimension_actions(engagement):
    assessment = submitted_assessment(engagement, level=5)
    plan = build(assessment)
    codes = set(plan.actions.values_list("template__code", flat=True))
    assert "process-walkthrough" not in codes
    assert "governance-workshop" not in codes


def test_building_twice_or_rebuilding_never_duplicates_actions(engagement):
    assessment = submitted_assessment(engagement, level=2)
    plan = build(assessment)
    first = plan.actions.count()
    assert services.plan_build(plan_id=plan.pk) is None  # already built: nothing to do
    services.plan_request(assessment=assessment)  # e.g. a resubmission after a return
    services.plan_build(plan_id=plan.pk)
    assert EducationAction.objects.filter(plan=plan).count() == first
    assert Notification.objects.filter(kind=NotificationKind.PLAN_READY).count() == 1


def test_the_owner_is_told_the_plan_is_ready(engagement, manager_a):
    build(submitted_assessment(engagement, level=2))
    notice = Notification.objects.get(kind=NotificationKind.PLAN_READY)
    assert notice.recipient == manager_a
    assert email_of(notice).state == DeliveryState.PENDING


def test_the_next_reassessment_follows_the_level_cadence(engagement):
    assessment = submitted_assessment(engagement, level=1)
    build(assessment)
    schedule = ReassessmentSchedule.objects.get(engagement=engagement)
    assert schedule.due_at == assessment.submitted_at + timedelta(days=90)


def test_an_engagement_past_its_cadence_prompts_its_owner_once(engagement, manager_a):
    build(submitted_assessment(engagement, level=1))
    later = timezone.now() + timedelta(days=91)
    assert services.prompt_reassessments(now=later) == 1
    assert services.prompt_reassessments(now=later + timedelta(days=1)) == 0
    notice = Notification.objects.get(kind=NotificationKind.REASSESSMENT)
    assert notice.recipient == manager_a


# --- The dispatcher ------------------------------------------------------------------------


def test_a_reminder_is_sent_once_before_the_due_date(engagement, manager_a):
    today = timezone.localdate()
    action = EducationActionFactory(engagement=engagement, due_date=today + timedelta(days=1))
    services.action_update(action=action, by=manager_a, due_date=today + timedelta(days=1))
    report = services.dispatch_actions()
    assert report.reminders == 1
    assert services.dispatch_actions().reminders == 0
    reminder = Notification.objects.get(kind=NotificationKind.REMINDER)
    assert reminder.recipient == manager_a
    assert reminder.action_id == action.pk
    action.refresh_from_db()
    assert action.reminded_at is not None
    assert action.next_check_at == schedule.start_of_day(
        today + timedelta(days=2), timezone.get_current_timezone()
    )


def test_an_overdue_action_is_marked_and_escalated_to_each_director_once(engagement, manager_a):
    first, second = DirectorFactory(), DirectorFactory()
    action = EducationActionFactory(engagement=engagement)
    services.reschedule(action)
    action.save()
    # Five days after the due date: overdue for four days, past the three-day grace.
    later = timezone.now() + timedelta(days=5)
    report = services.dispatch_actions(now=later)
    assert (report.overdue, report.escalations) == (1, 1)
    assert services.dispatch_actions(now=later + timedelta(days=1)).escalations == 0
    escalations = Notification.objects.filter(kind=NotificationKind.ESCALATION)
    assert {n.recipient for n in escalations} == {first, second}
    assert Notification.objects.filter(kind=NotificationKind.OVERDUE).count() == 1
    # A reminder whose day passed with the due date is not sent: the overdue notice says more.
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()
    action.refresh_from_db()
    assert action.next_check_at is None


def test_rescheduling_starts_the_reminders_over(engagement, manager_a):
    action = EducationActionFactory(engagement=engagement)
    services.reschedule(action)
    action.save()
    services.dispatch_actions(now=timezone.now() + timedelta(days=2))
    action.refresh_from_db()
    assert action.overdue_at is not None
    new_due = timezone.localdate() + timedelta(days=10)
    services.action_update(action=action, by=manager_a, due_date=new_due)
    action.refresh_from_db()
    assert action.overdue_at is None
    assert action.reminded_at is None
    assert action.next_check_at is not None


def test_a_recurring_action_spawns_its_next_occurrence_on_its_due_date(engagement, manager_a):
    today = timezone.localdate()
    action = services.action_create(
        engagement=engagement,
        by=manager_a,
        action_type="business_review",
        title="Monthly review",
        due_date=today,
        every_weeks=4,
    )
    services.dispatch_actions()
    services.dispatch_actions()
    occurrences = EducationAction.objects.filter(title="Monthly review").order_by("due_date")
    assert [a.due_date for a in occurrences] == [today, today + timedelta(weeks=4)]
    assert occurrences[1].occurrence == action.occurrence + 1


def test_a_new_assessment_ends_the_previous_recurring_series(engagement, manager_a):
    first = submitted_assessment(engagement, level=2)
    build(first)
    older = EducationAction.objects.filter(plan__assessment=first, every_weeks__isnull=False)
    assert older.exists()
    assert not any(a.recurrence_closed for a in older)
    build(submitted_assessment(engagement, level=3))
    assert all(a.recurrence_closed for a in older.all())


def test_closed_actions_are_neither_reminded_nor_escalated(engagement, manager_a):
    action = EducationActionFactory(engagement=engagement)
    services.reschedule(action)
    action.save()
    services.action_complete(action=action, by=manager_a, outcome="Held with the sponsor.")
    report = services.dispatch_actions(now=timezone.now() + timedelta(days=10))
    assert report.actions == 0
    assert not Notification.objects.exists()


# --- The outbox ---------------------------------------------------------------------------


def test_the_relay_emails_each_notification_once_with_its_key_as_message_id(engagement):
    build(submitted_assessment(engagement, level=2))
    report = services.notifications_relay()
    assert report.sent == 1
    assert services.notifications_relay().sent == 0
    notice = Notification.objects.get()
    assert email_of(notice).state == DeliveryState.SENT
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"].startswith(f"<{notice.idempotency_key}@")
    assert "Education plan ready" in message.subject


def test_the_email_speaks_the_recipients_language(engagement, manager_a):
    manager_a.language = "pt-br"
    manager_a.save()
    build(submitted_assessment(engagement, level=2))
    services.notifications_relay()
    assert "Plano de educação" in mail.outbox[0].subject


def test_a_failed_send_is_retried_with_backoff_then_given_up(engagement, settings):
    settings.EMAIL_BACKEND = "tests.mail_sink.FailingBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    build(submitted_assessment(engagement, level=2))
    now = timezone.now()
    assert services.notifications_relay(now=now).failed == 1
    email = email_of(Notification.objects.get())
    assert email.attempts == 1
    assert email.state == DeliveryState.PENDING
    assert email.next_attempt_at == now + timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS)
    assert "refused" in email.last_error
    assert services.notifications_relay(now=now).failed == 0  # not due yet
    services.notifications_relay(now=now + timedelta(hours=1))
    report = services.notifications_relay(now=now + timedelta(hours=2))
    assert report.gave_up == 1
    email.refresh_from_db()
    assert email.state == DeliveryState.FAILED
    assert email.attempts == 3


def test_a_user_without_an_email_address_still_gets_the_in_app_notification(engagement, manager_a):
    manager_a.email = ""
    manager_a.save()
    build(submitted_assessment(engagement, level=2))
    notice = Notification.objects.get()
    assert not notice.deliveries.exists()  # in the app only
    assert services.notifications_relay().sent == 0


def test_writing_the_same_notification_twice_keeps_one(manager_a):
    row = lambda: services.notification_for(  # noqa: E731
        recipient=manager_a, kind=NotificationKind.DIGEST, key="digest.x"
    )
    services.notifications_write([row()])
    services.notifications_write([row()])
    assert Notification.objects.count() == 1


def test_marking_read_touches_only_the_users_own(manager_a, manager_b):
    for user in (manager_a, manager_b):
        services.notifications_write(
            [services.notification_for(recipient=user, kind="digest", key=f"d.{user.pk}")]
        )
    assert services.notifications_mark_read(user=manager_a) == 1
    assert Notification.objects.filter(read_at__isnull=True).get().recipient == manager_b


def test_the_weekly_digest_is_written_once_per_director_and_week(engagement):
    DirectorFactory()
    EducationActionFactory(engagement=engagement, due_date=timezone.localdate() - timedelta(days=3))
    assert services.weekly_digest() == 1
    services.weekly_digest()
    digest = Notification.objects.get(kind=NotificationKind.DIGEST)
    assert digest.params["overdue"] == 1


# --- Actions -------------------------------------------------------------------------------


def test_an_action_needs_a_title_a_future_due_date_and_a_known_type(engagement, manager_a):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.action_create(
            engagement=engagement,
            by=manager_a,
            action_type="workshop",
            title=" ",
            due_date=today,
        )
    assert "title" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.action_create(
            engagement=engagement,
            by=manager_a,
            action_type="workshop",
            title="T",
            due_date=today - timedelta(days=1),
        )
    assert "due_date" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.action_create(
            engagement=engagement, by=manager_a, action_type="party", title="T", due_date=today
        )
    assert "action_type" in error.value.message_dict


def test_an_action_cannot_go_to_someone_off_the_clients_team(engagement, manager_a, manager_b):
    with pytest.raises(ValidationError) as error:
        services.action_create(
            engagement=engagement,
            by=manager_a,
            action_type="workshop",
            title="T",
            due_date=timezone.localdate(),
            owner=manager_b,
        )
    assert "owner" in error.value.message_dict


def test_reassigning_tells_the_new_owner(engagement, manager_a, manager_b):
    engagement.client.team_members.add(manager_b)
    action = EducationActionFactory(engagement=engagement)
    services.action_update(action=action, by=manager_a, owner=manager_b)
    notice = Notification.objects.get(kind=NotificationKind.ASSIGNED)
    assert notice.recipient == manager_b
    assert notice.params["title"] == action.title


def test_another_managers_action_cannot_be_changed(b_client, manager_a):
    action = EducationActionFactory(engagement=EngagementFactory(client=b_client))
    with pytest.raises(PermissionDenied):
        services.action_complete(action=action, by=manager_a, outcome="x")


def test_completing_needs_an_outcome_and_skipping_a_reason(engagement, manager_a):
    action = EducationActionFactory(engagement=engagement)
    with pytest.raises(ValidationError):
        services.action_complete(action=action, by=manager_a, outcome="  ")
    with pytest.raises(ValidationError):
        services.action_skip(action=action, by=manager_a, reason="")
    services.action_skip(action=action, by=manager_a, reason="The client cancelled.")
    action.refresh_from_db()
    assert action.status == ActionStatus.SKIPPED
    with pytest.raises(ValidationError):
        services.action_complete(action=action, by=manager_a, outcome="Late")
    services.action_reopen(action=action, by=manager_a)
    action.refresh_from_db()
    assert action.status == ActionStatus.PLANNED
    assert action.skip_reason == ""


# --- Uplift --------------------------------------------------------------------------------


def test_uplift_is_measured_by_the_first_assessment_after_completion(engagement, manager_a):
    first = submitted_assessment(engagement, level=1)
    build(first)
    walkthrough = EducationAction.objects.get(template__code="process-walkthrough")
    services.action_complete(action=walkthrough, by=manager_a, outcome="Walked the floor.")
    second = submitted_assessment(engagement, level=4)
    build(second)
    walkthrough.refresh_from_db()
    assert walkthrough.uplift_assessment == second
    before = first.dimension_results.get(code="process-knowledge").score
    after = second.dimension_results.get(code="process-knowledge").score
    assert walkthrough.dimension_deltas == {"process-knowledge": round(after - before, 2)}
    assert walkthrough.uplift == round(after - before, 2)
    assert walkthrough.uplift > 0
    assert walkthrough.maturity_delta == round(second.maturity_score - first.maturity_score, 2)
    # Actions not done are not credited.
    assert not EducationAction.objects.filter(
        status=ActionStatus.PLANNED, uplift__isnull=False
    ).exists()


def test_uplift_counts_a_fall_in_defensiveness_as_improvement(engagement, manager_a):
    # Answering 4 everywhere reads as defensive (index 75): the alignment meeting is planned.
    first = submitted_assessment(engagement, level=4)
    build(first)
    meeting = EducationAction.objects.get(template__code="alignment-meeting")
    services.action_complete(action=meeting, by=manager_a, outcome="Talked it through.")
    build(submitted_assessment(engagement, level=2))
    meeting.refresh_from_db()
    deltas = meeting.dimension_deltas
    assert deltas
    assert all(delta < 0 for delta in deltas.values())  # defensiveness fell…
    assert meeting.uplift == pytest.approx(-sum(deltas.values()) / len(deltas), abs=0.01)
    assert meeting.uplift > 0  # …which is an improvement


def test_an_enqueue_with_the_broker_down_gives_up_fast_and_loses_nothing(
    engagement, caplog, django_capture_on_commit_callbacks
):
    import logging
    import time

    from tests.celery_process import broker, free_port

    with (
        broker(f"redis://127.0.0.1:{free_port()}/0", "nowhere"),
        caplog.at_level(logging.WARNING, logger="education.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        started = time.monotonic()
        assessment = submitted_assessment(engagement, level=1)
        elapsed = time.monotonic() - started
    assert elapsed < 3  # kombu alone would spend ~6 s per enqueue connecting
    assert any("could not enqueue" in r.getMessage() for r in caplog.records)
    # The plan is recorded all the same, and due for the dispatcher's very next tick.
    plan = EducationPlan.objects.get(assessment=assessment)
    assert plan.status == PlanStatus.PENDING
    assert plan.sweep_at <= timezone.now()
    assert services.sweep_pending_plans() == 1


def test_after_a_failed_publish_the_next_ones_are_not_even_tried(
    engagement, django_capture_on_commit_callbacks, settings, caplog
):
    import logging

    from core.tasks import breaker
    from tests.celery_process import broker, free_port

    settings.BROKER_RETRY_AFTER_SECONDS = 30
    with broker(f"redis://127.0.0.1:{free_port()}/0", "nowhere"):
        with django_capture_on_commit_callbacks(execute=True):
            submitted_assessment(engagement, level=1)  # pays one failed connect
        assert not breaker.allows()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="core.tasks"):
            for _ in range(3):
                with django_capture_on_commit_callbacks(execute=True):
                    submitted_assessment(EngagementFactory(client=engagement.client), level=1)
    messages = [record.getMessage() for record in caplog.records if record.name == "core.tasks"]
    # Three submits, no connection attempt among them; each plan left to the next tick.
    assert not [m for m in messages if "could not enqueue" in m]
    assert len([m for m in messages if "broker recently failed" in m]) == 3
    assert EducationPlan.objects.filter(sweep_at__lte=timezone.now()).count() == 4


def test_a_plan_whose_build_raises_is_counted_and_does_not_stop_the_sweep(engagement, monkeypatch):
    first = EducationPlan.objects.get(assessment=submitted_assessment(engagement, level=1))
    second = EducationPlan.objects.get(
        assessment=submitted_assessment(EngagementFactory(client=engagement.client), level=1)
    )
    EducationPlan.objects.update(sweep_at=timezone.now() - timedelta(seconds=1))
    real_build = plans.plan_build

    def build_or_break(*, plan_id):
        if plan_id == first.pk:
            raise RuntimeError("a broken playbook rule")
        return real_build(plan_id=plan_id)

    monkeypatch.setattr(plans, "plan_build", build_or_break)
    assert services.sweep_pending_plans() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.status == PlanStatus.BUILT
    assert first.status == PlanStatus.PENDING
    assert first.build_failures == 1
    assert first.last_error == "RuntimeError: a broken playbook rule"
    # Retried with backoff, not on every tick.
    assert first.sweep_at > timezone.now() + timedelta(seconds=30)
    assert services.sweep_pending_plans() == 0


def test_a_hung_mail_server_costs_the_relay_its_timeout_not_its_pass(engagement, settings):
    import socket
    import time

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 1
    build(submitted_assessment(engagement, level=2))
    with socket.socket() as silent:  # accepts connections and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()
        started = time.monotonic()
        report = services.notifications_relay()
        elapsed = time.monotonic() - started
    assert report.failed == 1
    assert elapsed < 3
    email = email_of(Notification.objects.get())
    assert email.state == DeliveryState.PENDING
    assert "timed out" in email.last_error


def test_the_dispatcher_builds_plans_whose_message_was_lost(engagement, settings):
    settings.EDUCATION_PLAN_SWEEP_SECONDS = 60
    assessment = submitted_assessment(engagement, level=1)
    plan = EducationPlan.objects.get(assessment=assessment)
    assert services.sweep_pending_plans() == 0  # just submitted: its task may be on its way
    later = timezone.now() + timedelta(seconds=61)
    assert services.sweep_pending_plans(now=later) == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.BUILT
    assert plan.actions.exists()


def test_a_pass_stops_starting_batches_when_its_time_is_up(engagement):
    for _ in range(3):
        action = EducationActionFactory(engagement=engagement)
        services.reschedule(action)
        action.save()
    later = timezone.now() + timedelta(days=1)
    report = services.dispatch_actions(now=later, batch_size=1, budget_seconds=0)
    assert report.batches == 0
    assert services.dispatch_actions(now=later, batch_size=1).batches == 3


def _due_mix(engagement, n):
    """n actions: due tomorrow (a reminder), five days late (overdue, escalated) and
    recurring due today (a reminder and the next occurrence), in turn."""
    today = timezone.localdate()
    actions = []
    for i in range(n):
        kind = i % 3
        action = EducationActionFactory(
            engagement=engagement,
            due_date=today + timedelta(days=(1, -5, 0)[kind]),
            every_weeks=4 if kind == 2 else None,
        )
        services.reschedule(action)
        action.save()
        actions.append(action)
    return actions


def _outcome():
    actions = [
        (a.title, a.due_date, a.occurrence, bool(a.reminded_at), bool(a.overdue_at),
         bool(a.escalated_at), a.next_spawned, a.next_check_at)
        for a in EducationAction.objects.order_by("title", "occurrence")
    ]  # fmt: skip
    notices = sorted(
        (
            n.idempotency_key.split(".")[0],
            n.recipient_id,
            ",".join(f"{d.channel}:{d.state}" for d in n.deliveries.all()),
            n.params["title"],
        )
        for n in Notification.objects.prefetch_related("deliveries")
    )
    return actions, notices


@pytest.mark.parametrize("set_based", [True, False])
def test_both_write_paths_of_the_dispatcher_store_the_same(engagement, monkeypatch, set_based):
    DirectorFactory()
    _due_mix(engagement, 6)
    monkeypatch.setattr(dispatcher, "SET_BASED_WRITES", set_based)
    report = services.dispatch_actions()
    assert (report.reminders, report.overdue, report.escalations, report.spawned) == (4, 2, 2, 2)
    actions, notices = _outcome()
    assert len(actions) == 8
    assert [n[0] for n in notices].count("escalation") == 2
    assert all(n[2] == "email:pending" for n in notices)


def test_both_write_paths_agree_row_for_row(engagement, manager_a):
    DirectorFactory()
    _due_mix(engagement, 6)
    with transaction.atomic():
        sid = transaction.savepoint()
        services.dispatch_actions(now=timezone.now())
        fast = _outcome()
        transaction.savepoint_rollback(sid)
    dispatcher.SET_BASED_WRITES = False
    try:
        services.dispatch_actions(now=timezone.now())
    finally:
        dispatcher.SET_BASED_WRITES = True
    slow = _outcome()
    assert fast[1] == slow[1]
    assert [a[:7] for a in fast[0]] == [a[:7] for a in slow[0]]


def test_a_dispatcher_batch_takes_the_same_statements_for_5_and_50_actions(
    engagement, count_queries
):
    def statements(n):
        EducationAction.objects.all().delete()
        Notification.objects.all().delete()
        for _ in range(n):
            action = EducationActionFactory(
                engagement=engagement, due_date=timezone.localdate() + timedelta(days=1)
            )
            services.reschedule(action)
            action.save()
        with count_queries() as queries:
            report = services.dispatch_actions(batch_size=100)
        assert report.reminders == n
        return queries.count

    assert statements(5) == statements(50)
