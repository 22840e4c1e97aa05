"""The perception gap turned into education: the default playbook's gap rules (in three
languages) plan a calibration with the sponsor when the client sees itself well above us,
both when a plan is built after the round was heard and when a round closes after the
plan was built."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from education.models import EducationAction, EducationPlan, Notification, PlaybookRule
from education.services import plan_build
from education.templatetags.education import reason_text
from tests.factories import EngagementFactory, StakeholderFactory, submitted_assessment
from voice.services import (
    client_answer_save,
    client_questions,
    invitation_create,
    invitation_finish,
    round_close,
    round_open,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def engagement(a_client):
    return EngagementFactory(client=a_client)


def heard_at_level_five(engagement):
    """A round whose one respondent rates governance at level 5 everywhere it is asked."""
    owner = engagement.client.owner
    round_ = round_open(
        engagement=engagement, by=owner, closes_on=timezone.localdate() + timedelta(days=9)
    )
    person = StakeholderFactory(client=engagement.client, email="sponsor@client.example")
    invitation, _ = invitation_create(round=round_, stakeholder=person, language="pt-br", by=owner)
    for question in client_questions(round_.version):
        if question.code.startswith("gov-"):
            client_answer_save(
                invitation=invitation, question_id=question.pk, value=5, revision=None
            )
    invitation_finish(invitation=invitation)
    return round_


def build(assessment):
    return plan_build(plan_id=EducationPlan.objects.get(assessment=assessment).pk)


def test_the_default_playbook_ships_gap_rules_in_three_languages():
    rules = PlaybookRule.objects.filter(playbook__code="bpo-default", kind="perception_gap")
    assert {(r.template.code, r.dimension_code, r.gap_levels) for r in rules} == {
        ("calibration-session", "", 2.0),
        ("governance-workshop", "governance", 1.0),
        ("business-review", "", -1.5),
    }
    calibration = rules.get(template__code="calibration-session").template
    assert set(calibration.title) == set(calibration.description) == {"en", "pt-br", "es"}


def test_a_plan_built_after_the_round_reads_its_gap(engagement):
    heard_at_level_five(engagement)
    # Ours is level 2 everywhere: governance is three levels below the client's view.
    plan = build(submitted_assessment(engagement, level=2))
    actions = {a.template.code: a for a in plan.actions.select_related("template")}
    calibration = actions["calibration-session"]
    [reason] = calibration.reasons
    assert (reason["kind"], reason["subject"], reason["value"]) == (
        "perception_gap",
        "governance",
        3.0,
    )
    assert calibration.target_dimensions == ["governance"]
    # The governance rule names its dimension and a smaller gap.
    assert [(r["kind"], r["subject"]) for r in actions["governance-workshop"].reasons] == [
        ("perception_gap", "governance")
    ]
    with override("en"):
        assert reason_text(reason) == (
            "Perception gap: the client rates Governance and contract management 3.0 levels "
            "above us"
        )


def test_a_round_closing_after_the_plan_adds_what_its_gap_calls_for(engagement, manager_a):
    plan = build(submitted_assessment(engagement, level=2))
    before = set(plan.actions.values_list("template__code", flat=True))
    assert not {"calibration-session", "governance-workshop"} & before
    round_ = heard_at_level_five(engagement)
    assert not EducationAction.objects.filter(template__code="calibration-session").exists()
    notified = Notification.objects.filter(recipient=manager_a).count()

    round_close(round=round_, by=manager_a)

    after = set(plan.actions.values_list("template__code", flat=True))
    assert after - before == {"calibration-session", "governance-workshop"}
    assert Notification.objects.filter(recipient=manager_a).count() == notified + 1
    # Closing again adds nothing more.
    round_close(round=round_, by=manager_a)
    assert plan.actions.count() == len(after)


def test_a_client_seeing_itself_as_we_do_calls_for_no_calibration(engagement, manager_a):
    round_ = heard_at_level_five(engagement)
    plan = build(submitted_assessment(engagement, level=5))
    round_close(round=round_, by=manager_a)
    codes = set(plan.actions.values_list("template__code", flat=True))
    assert "calibration-session" not in codes


def test_a_round_past_its_closing_day_closes_itself_and_its_gap_is_heard(engagement):
    from education.services.dispatcher import dispatch
    from voice.services import round_ends_at

    plan = build(submitted_assessment(engagement, level=2))
    round_ = heard_at_level_five(engagement)
    assert dispatch(now=timezone.now()).rounds_closed == 0
    assert dispatch(now=timezone.now() + timedelta(days=10)).rounds_closed == 1
    round_.refresh_from_db()
    assert round_.closed_at == round_ends_at(round_)  # as of the end of its closing day
    assert "calibration-session" in set(plan.actions.values_list("template__code", flat=True))


def test_a_round_closing_while_the_newest_plan_is_being_built_leaves_it_to_that_build(
    engagement, manager_a
):
    """The newest assessment's plan is still pending when the round closes: nothing goes
    to the older plan; the pending plan's build reads the gap and plans it once."""
    older = build(submitted_assessment(engagement, level=2))
    round_ = heard_at_level_five(engagement)
    newest = submitted_assessment(engagement, level=2)  # its plan: pending
    round_close(round=round_, by=manager_a)
    assert "calibration-session" not in set(older.actions.values_list("template__code", flat=True))
    plan = build(newest)
    codes = list(plan.actions.values_list("template__code", flat=True))
    assert codes.count("calibration-session") == 1
