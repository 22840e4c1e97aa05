"""Standings — each engagement's latest counted result and the one before — follow the
assessments in the same transaction, and agree with a rebuild from scratch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from assessments.models import Assessment, AssessmentStatus
from assessments.services import assessment_review
from dashboards import standings
from dashboards.models import Standing
from dashboards.standings import standing_refresh, standings_rebuild
from education import cadence
from tests.factories import DirectorFactory, EngagementFactory, submitted_assessment

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple], list[tuple]]:
    rows = list(
        Standing.objects.order_by("engagement_id").values_list(
            "engagement_id",
            "assessment_id",
            "submitted_at",
            "maturity_score",
            "maturity_level",
            "defensiveness_index",
            "quadrant",
            "previous_maturity_score",
            "previous_defensiveness_index",
            "reassess_due_at",
            *(f"d{i:02d}" for i in range(1, 17)),
            "client_id",
            "client_name",
            "client_active",
            "segment",
            "client_owner_id",
            "process_type",
            "phase",
        )
    )
    return rows, []


def scores_of(standing: Standing) -> dict[str, float | None]:
    """The standing's dimension scores by code, read through the slots."""
    from dashboards.slots import slot_map

    slots = slot_map(standing.questionnaire_id)
    return {code: getattr(standing, f"d{slot:02d}") for code, slot in slots.items()}


@pytest.fixture(params=["riding", "one statement", "orm"])
def refresh_path(request, monkeypatch):
    """How a submit's standing is written: in the submit's own statement (STANDING_RIDER,
    a first submit's), by the refresh's one statement, or through the ORM (the other
    databases); reviews and deletions refresh by the last two."""
    from assessments import signals

    if request.param != "orm" and connection.vendor != "postgresql":
        pytest.skip("the single-statement refresh is PostgreSQL's")
    monkeypatch.setattr(standings, "SINGLE_STATEMENT_REFRESH", request.param != "orm")
    if request.param != "riding":
        riders = {name: r for name, r in signals._riders.items() if r != standings.STANDING_RIDER}
        monkeypatch.setattr(signals, "_riders", riders)
    return request.param


def test_a_submit_makes_the_standing_and_the_next_one_keeps_the_previous(refresh_path):
    engagement = EngagementFactory()
    first = submitted_assessment(engagement, level=1)
    standing = Standing.objects.get(engagement=engagement)
    assert standing.assessment_id == first.pk
    assert standing.maturity_score == first.maturity_score
    assert standing.previous_maturity_score is None
    assert scores_of(standing) == dict(first.dimension_results.values_list("code", "score"))

    second = submitted_assessment(engagement, level=4)
    standing.refresh_from_db()
    assert standing.assessment_id == second.pk
    assert standing.maturity_score == second.maturity_score
    assert standing.maturity_level == second.maturity_level
    assert standing.previous_maturity_score == first.maturity_score
    assert standing.previous_defensiveness_index == first.defensiveness_index
    assert scores_of(standing) == dict(second.dimension_results.values_list("code", "score"))
    # Reassessment due after the level's cadence (education's rule).
    assert standing.reassess_due_at == cadence.due_at(second.submitted_at, second.maturity_level)
    built = snapshot()
    standings_rebuild()
    assert snapshot() == built


def test_a_returned_assessment_stops_counting_until_it_is_submitted_again(refresh_path):
    engagement = EngagementFactory()
    first = submitted_assessment(engagement, level=2)
    second = submitted_assessment(engagement, level=4)
    assessment_review(assessment=second, by=DirectorFactory(), approve=False, comment="Fix it")
    standing = Standing.objects.get(engagement=engagement)
    assert standing.assessment_id == first.pk
    assert standing.previous_maturity_score is None
    assert scores_of(standing) == dict(first.dimension_results.values_list("code", "score"))
    built = snapshot()
    standings_rebuild()
    assert snapshot() == built


def test_an_engagement_whose_only_result_is_returned_has_no_standing(refresh_path):
    engagement = EngagementFactory()
    only = submitted_assessment(engagement, level=3)
    assessment_review(assessment=only, by=DirectorFactory(), approve=False, comment="Redo")
    assert not Standing.objects.filter(engagement=engagement).exists()


def test_approval_keeps_the_standing(refresh_path):
    engagement = EngagementFactory()
    assessment = submitted_assessment(engagement, level=3)
    before = snapshot()
    assessment_review(assessment=assessment, by=DirectorFactory(), approve=True)
    assert snapshot() == before


def test_deleting_the_latest_assessment_falls_back_to_the_one_before(refresh_path):
    engagement = EngagementFactory()
    first = submitted_assessment(engagement, level=2)
    second = submitted_assessment(engagement, level=4)
    Assessment.objects.filter(pk=second.pk).delete()  # queryset delete still sends signals
    standing = Standing.objects.get(engagement=engagement)
    assert standing.assessment_id == first.pk


def test_refresh_and_rebuild_agree_on_many_engagements(refresh_path):
    """Several engagements with one, two and three results, refreshed one by one, equal a
    rebuild from scratch; the rebuild of a subset leaves the others alone."""
    engagements = [EngagementFactory() for _ in range(3)]
    for count, engagement in enumerate(engagements, start=1):
        for level in range(count):
            submitted_assessment(engagement, level=level + 2)
    # Move one result into the past, as if submitted earlier: refresh fixes its order.
    older = Assessment.objects.filter(engagement=engagements[2]).order_by("id").last()
    assert older is not None
    Assessment.objects.filter(pk=older.pk).update(submitted_at=timezone.now() - timedelta(days=400))
    for engagement in engagements:
        standing_refresh(engagement.pk)
    refreshed = snapshot()
    Standing.objects.all().delete()
    assert standings_rebuild() == 3
    assert snapshot() == refreshed
    standings_rebuild([engagements[0].pk])
    assert snapshot() == refreshed
    latest = Standing.objects.get(engagement=engagements[2])
    assert latest.assessment_id != older.pk


def test_drafts_never_count():
    engagement = EngagementFactory()
    submitted_assessment(engagement, level=3)
    from assessments.services import assessment_start

    draft, _created = assessment_start(engagement=engagement, by=engagement.client.owner)
    assert draft.status == AssessmentStatus.DRAFT
    standing_refresh(engagement.pk)
    assert Standing.objects.get(engagement=engagement).assessment_id != draft.pk


def test_the_client_and_engagement_attributes_follow_their_edits(refresh_path):
    from clients.models import Phase, Segment
    from tests.factories import AccountManagerFactory

    engagement = EngagementFactory()
    submitted_assessment(engagement, level=3)
    client = engagement.client
    client.name = "Renamed Ltda."
    client.segment = Segment.RETAIL
    client.owner = AccountManagerFactory()
    client.is_active = False
    client.save()
    engagement.phase = Phase.RENEWAL
    engagement.save()
    standing = Standing.objects.get(engagement=engagement)
    assert standing.client_name == "Renamed Ltda."
    assert standing.segment == Segment.RETAIL
    assert standing.client_owner_id == client.owner_id
    assert standing.client_active is False
    assert standing.phase == Phase.RENEWAL
    built = snapshot()
    standings_rebuild()
    assert snapshot() == built


def test_publishing_a_version_gives_its_new_dimensions_slots():
    from dashboards.models import DimensionSlot
    from dashboards.slots import ensure_slots, slot_map
    from tests.factories import published_default_version

    questionnaire = published_default_version().questionnaire_id
    before = slot_map(questionnaire)
    assert len(before) == 10  # the default questionnaire's dimensions, from migrate
    mapping = ensure_slots(questionnaire, ["brand-new", *before])
    assert mapping["brand-new"] == max(before.values()) + 1
    assert {k: v for k, v in mapping.items() if k != "brand-new"} == before
    assert ensure_slots(questionnaire, ["brand-new"]) == mapping  # idempotent
    # More than the 16 slots: the rest stay out.
    ensure_slots(questionnaire, [f"extra-{i}" for i in range(10)])
    assert DimensionSlot.objects.filter(questionnaire_id=questionnaire).count() == 16


def test_the_lock_works_off_postgresql_too(monkeypatch):
    """Other databases take the ORM lock (both rows, for update) before the refresh."""
    from dashboards import standings as module

    engagement = EngagementFactory()
    submitted_assessment(engagement, level=3)
    monkeypatch.setattr(module, "SINGLE_STATEMENT_REFRESH", False)
    monkeypatch.setattr(module.connection, "vendor", "other")
    standing_refresh(engagement.pk)
    assert Standing.objects.filter(engagement=engagement).exists()


@pytest.mark.parametrize("level", [None, 1, 2, 3, 4, 5])
def test_the_dashboard_and_the_scheduler_agree_on_the_reassessment_date(refresh_path, level):
    """One cadence (education/cadence.py): the standing's due date — from SQL on one
    path, from Python on the other — is the date the scheduler prompts on, for every level
    and for an assessment without one."""
    from education.models import EducationPlan, ReassessmentSchedule
    from education.services import plan_build

    engagement = EngagementFactory()
    assessment = submitted_assessment(engagement, level=3)
    Assessment.objects.filter(pk=assessment.pk).update(maturity_level=level)
    standing_refresh(engagement.pk)
    plan_build(plan_id=EducationPlan.objects.get(assessment=assessment).pk)
    due = Standing.objects.get(engagement=engagement).reassess_due_at
    assert due == ReassessmentSchedule.objects.get(engagement=engagement).due_at
    assert due == cadence.due_at(assessment.submitted_at, level)
    assert due - assessment.submitted_at == timedelta(
        days=90 if level in (None, 1, 2) else 180 if level in (3, 4) else 365
    )


def test_a_refresh_keeps_the_perception_gap_unless_the_questionnaire_changes(refresh_path):
    """The gap's columns are dashboards.gaps's: a submit on the same questionnaire keeps
    them (both paths), one on another questionnaire clears them (its slots differ)."""
    from datetime import timedelta

    from django.utils import timezone

    from voice.models import Round

    engagement = EngagementFactory()
    first = submitted_assessment(engagement, level=2)
    round_ = Round.objects.create(
        engagement=engagement,
        version=first.version,
        closes_on=timezone.localdate() + timedelta(days=9),
    )
    Standing.objects.filter(pk=engagement.pk).update(
        gap_round=round_, gap_respondents=2, gap_mean=25.0, gap_wide=True, g01=25.0
    )
    submitted_assessment(engagement, level=3)
    kept = Standing.objects.get(pk=engagement.pk)
    assert (kept.gap_round_id, kept.gap_respondents, kept.gap_mean, kept.g01) == (
        round_.pk, 2, 25.0, 25.0
    )  # fmt: skip
    Standing.objects.filter(pk=engagement.pk).update(questionnaire_id=kept.questionnaire_id + 999)
    standing_refresh(engagement.pk)
    cleared = Standing.objects.get(pk=engagement.pk)
    assert (cleared.gap_round_id, cleared.gap_respondents, cleared.gap_wide, cleared.g01) == (
        None, 0, False, None
    )  # fmt: skip
