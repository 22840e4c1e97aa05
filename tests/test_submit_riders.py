"""A receiver of ``assessment_submitted`` may have its write carried by a first submit's
own statement and by an import's (assessments.signals.Rider): the statement runs the
rider's CTE, and the receiver is handed what it returned. Every other path — a
resubmission, another database — hands it nothing, and the receiver writes for itself.
The education plan's row rides so (PLAN_RIDER): tests/test_assessment_services.py
compares its row with plan_request's."""

from __future__ import annotations

from typing import Any

import pytest

from assessments import signals
from assessments.models import Assessment
from assessments.selectors import default_version
from assessments.services import (
    AnswerInput,
    assessment_import,
    assessment_review,
    assessment_start,
    assessment_submit,
)
from assessments.signals import Rider, assessment_submitted, ride_on_submit
from education.models import EducationPlan, PlanStatus
from tests.factories import (
    AccountManagerFactory,
    ClientFactory,
    EngagementFactory,
    answer_everything,
)
from tests.test_assessment_import import answers_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed(monkeypatch):
    """A throwaway rider (the assessment's id plus 1000, a read: any CTE that returns one
    value will do) and its receiver, which records (assessment id, what it was handed)."""
    monkeypatch.setattr(signals, "_riders", dict(signals._riders))  # restored after
    ride_on_submit(
        Rider(
            name="test_rider",
            sql="SELECT {assessment}.id + %s::bigint FROM {assessment}",
            params=lambda assessment: [1000],
        )
    )
    seen: list[tuple[int, Any]] = []

    def receiver(sender: Any, *, assessment: Assessment, **kwargs: Any) -> None:
        seen.append((assessment.pk, kwargs.get("ridden", {}).get("test_rider")))

    assessment_submitted.connect(receiver, dispatch_uid="tests.test_rider")
    yield seen
    assessment_submitted.disconnect(dispatch_uid="tests.test_rider")


@pytest.fixture
def manager():
    return AccountManagerFactory()


def _answered(manager) -> Assessment:
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    draft = assessment_start(engagement=engagement, by=manager)[0]
    answer_everything(draft, level=3)
    return draft


def _plan(assessment: Assessment) -> EducationPlan:
    return EducationPlan.objects.get(assessment_id=assessment.pk)


def test_a_first_submit_carries_the_riders_and_hands_on_what_they_returned(handed, manager):
    draft = _answered(manager)
    assessment_submit(assessment=draft, by=manager)
    assert handed == [(draft.pk, draft.pk + 1000)]
    assert _plan(draft).status == PlanStatus.PENDING  # the plan's rider rode beside it


def test_an_import_carries_the_riders_too(handed, manager):
    engagement = EngagementFactory(client=ClientFactory(owner=manager))
    version = default_version()
    imported = assessment_import(
        engagement=engagement,
        by=manager,
        answers=[AnswerInput(**item) for item in answers_of(version)],
    )
    assert handed == [(imported.pk, imported.pk + 1000)]
    assert _plan(imported).status == PlanStatus.PENDING


def test_a_resubmission_hands_nothing_on_and_the_plan_is_asked_for_again(handed, manager, director):
    draft = _answered(manager)
    assessment_submit(assessment=draft, by=manager)
    plan = _plan(draft)
    EducationPlan.objects.filter(pk=plan.pk).update(status=PlanStatus.BUILT)
    assessment_review(assessment=draft, by=director, approve=False, comment="Check 3.2")
    assessment_submit(assessment=Assessment.objects.get(pk=draft.pk), by=manager)
    assert handed == [(draft.pk, draft.pk + 1000), (draft.pk, None)]
    again = _plan(draft)
    assert (again.pk, again.status) == (plan.pk, PlanStatus.PENDING)  # plan_request's upsert


def test_on_another_database_nothing_rides(handed, manager, monkeypatch):
    from assessments.services import assessments as module

    monkeypatch.setattr(module.connection, "vendor", "other")
    draft = _answered(manager)
    assessment_submit(assessment=draft, by=manager)
    assert handed == [(draft.pk, None)]
    assert _plan(draft).status == PlanStatus.PENDING  # written by plan_request
